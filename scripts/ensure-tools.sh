#!/usr/bin/env bash
# Makes a fresh Debian machine ready for the tests: the system tools they drive (swaks, Postfix,
# Python for smtplib, redis-server for fault tests, 7-Zip, dnsmasq as a test DNS server, OpenSSH's clients and sshpass) and a Redis on 127.0.0.1:6379.
# Idempotent and quiet when everything is already there; runs as `pretest`.
set -euo pipefail

missing=()
command -v swaks >/dev/null || missing+=(swaks)
command -v postconf >/dev/null || missing+=(postfix)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3)
# swaks speaks STARTTLS only with Perl's Net::SSLeay (the swaks package merely recommends it)
perl -MNet::SSLeay -e 1 2>/dev/null || missing+=(libnet-ssleay-perl)
# the memory test builds its 20 MB encrypted attachment with 7-Zip, as a customer would
command -v 7zz >/dev/null || missing+=(7zip)
# the false-refusal fault test makes fresh OpenPGP and openssl enc files with the customers' tools
command -v gpg >/dev/null || missing+=(gnupg)
command -v openssl >/dev/null || missing+=(openssl)
# the sender-authentication tests serve their SPF, DKIM and DMARC test zone with dnsmasq on loopback
command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
# the upload drive's tests use real clients: curl, Python requests, openssl for a test certificate;
# npm run bench compares with nginx's WebDAV PUT
command -v curl >/dev/null || missing+=(curl)
python3 -c 'import requests' 2>/dev/null || missing+=(python3-requests)
command -v nginx >/dev/null || missing+=(nginx-light)
# the SFTP/SCP tests drive OpenSSH's own clients (and the SFTP bench its sshd and sftp-server), typing the upload token through sshpass as a device would
command -v sftp >/dev/null || missing+=(openssh-client)
command -v sshpass >/dev/null || missing+=(sshpass)
[[ -x /usr/lib/openssh/sftp-server ]] || missing+=(openssh-server)

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "ensure-tools: missing ${missing[*]} and cannot apt-get them here; the tests that need them will say so and skip" >&2
  else
    echo "ensure-tools: installing ${missing[*]}" >&2
    # Postfix asks debconf what kind of mail system this is; tests configure their own instance.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

redis_url=${CASEDROP_REDIS_URL:-redis://127.0.0.1:6379}
if [[ $redis_url == redis://127.0.0.1:6379* ]] && command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-tools: no Redis on 127.0.0.1:6379, starting one" >&2
  # No persistence, for speed: casedrop's recovery rebuilds from the data dir whatever a restart of
  # this Redis forgets (README "Crash safety and Redis"). noeviction is what casedrop requires.
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --maxmemory-policy noeviction >/dev/null
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
