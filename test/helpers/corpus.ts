/** The RFC 4475-style torture corpus in test/corpus/rfc4475 (messages + expectations.json). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const CORPUS = new URL(`file://${path.resolve(import.meta.dirname, '..', 'corpus', 'rfc4475')}/`);

export interface Expectation {
  valid: boolean;
  status?: number;
  note: string;
}

export const expectations = JSON.parse(readFileSync(new URL('expectations.json', CORPUS), 'utf8')) as Record<string, Expectation>;

export const loadCorpus = (file: string): Buffer => readFileSync(new URL(file, CORPUS));
