/** Whether a TCP connection to 127.0.0.1:port is accepted now (a server started as a child process is up). */
import net from 'node:net';

export function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
