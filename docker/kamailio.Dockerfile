# Kamailio with its Redis modules (Debian packages), for docker/compose.yaml:
#   docker compose -f docker/compose.yaml up --build
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends kamailio kamailio-redis-modules \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/kamailio/kamailio.cfg /etc/kamailio/vagw.cfg
ENTRYPOINT ["kamailio", "-DD", "-E", "-f", "/etc/kamailio/vagw.cfg"]
