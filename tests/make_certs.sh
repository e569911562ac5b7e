#!/bin/sh
# Writes a test PKI into DIR for kilnd's mutual-TLS test: a CA, a server
# certificate for 127.0.0.1, a client certificate, and a rogue client
# certificate signed by another CA.
set -eu
d=$1
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca-key.pem
openssl req -x509 -new -key ca-key.pem -subj /CN=kiln-test-ca -days 2 -out ca.pem
key rogue-ca-key.pem
openssl req -x509 -new -key rogue-ca-key.pem -subj /CN=rogue-ca -days 2 -out rogue-ca.pem
sign() {  # NAME CN EXT CA
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "/CN=$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4-key.pem" -CAcreateserial \
    -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
sign server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth" ca
sign client kiln-client "extendedKeyUsage=clientAuth" ca
sign rogue kiln-client "extendedKeyUsage=clientAuth" rogue-ca
