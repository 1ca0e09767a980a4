#!/usr/bin/env bash
# The operator's certificate authority for the fiscal-edge broker, and the certificates it
# signs: one per agent, per CRM, per cloud instance, per support tool, and the broker's own.
# openssl only. The broker takes the certificate's CN as the client's username and client id
# (deploy/mosquitto/mosquitto.conf), and deploy/mosquitto/acl grants rights by that name.
#
# Usage: make-certs.sh [-d DIR] COMMAND ...
#   ca                      make the CA (also done by any command below when there is none)
#   server HOST [NAME...]   the broker's certificate; HOST and every NAME go into its SAN
#                           (IP addresses as IP, anything else as DNS)
#   agent CLUB AGENT        CN "CLUB/AGENT": rights from the acl's patterns, no acl edit
#   crm CLUB [NAME]         CN "crm:CLUB" (or "crm:CLUB:NAME" for a second connection)
#   cloud [NAME]            CN "cloud" (in the shipped acl), or "cloud:NAME" for another instance
#   support NAME            CN "support:NAME": reads every agent's health
#   revoke CN               revoke that client's certificate and rewrite the CRL
#   crl                     rewrite the CRL (its validity is CRL_DAYS)
#
# DIR (default ./pki) holds:
#   ca/ca.crt               the CA certificate: the broker's cafile and every client's ca
#   ca/ca.key       0600    the CA key; made once and never overwritten: keep it offline
#   ca/crl.pem              the revocation list: the broker's crlfile
#   ca/index.txt, ca/issued/, ca/serial, ca/crlnumber: openssl's record of what it signed
#   servers/HOST/           server.crt, server.key (0600), ca.crt
#   agents/CLUB/AGENT/      client.crt, client.key (0600), ca.crt
#   clients/CN/             the same for crm:*, cloud*, support:*, plus acl: the lines to
#                           append to the broker's acl for that identity (also printed;
#                           none for "cloud", whose lines the shipped acl has)
# A certificate that exists is kept (the command says so); revoke it and remove its
# directory to issue a new one. Keys are EC P-256; directories are 0700.
#
# Environment: DAYS (client and server validity, default 825), CA_DAYS (default 3650),
# CRL_DAYS (default 3650: an expired CRL locks every client out, so it lives as long as the
# CA; `crl` writes a fresh one).
set -euo pipefail
umask 077

DAYS=${DAYS:-825}
CA_DAYS=${CA_DAYS:-3650}
CRL_DAYS=${CRL_DAYS:-3650}
CA_SUBJECT="/O=fiscal-edge/CN=fiscal-edge operator CA"
# The agent's own rule for club and agent names (agent/config.py): they become topic levels.
NAME_RE='^[A-Za-z0-9_-]{1,64}$'

die() {
    echo "make-certs.sh: $*" >&2
    exit 2
}

usage() {
    sed -n '7,16p' "$0" >&2
    exit 2
}

check_name() { # what, value
    [[ $2 =~ $NAME_RE ]] || die "$1 '$2' must be 1-64 of A-Z a-z 0-9 _ - (it is a topic level)"
}

openssl_conf() {
    # openssl ca's settings; rewritten on every run so that they follow this script.
    cat >"$CA_DIR/openssl.cnf" <<EOF
[ca]
default_ca = fiscal_ca

[fiscal_ca]
dir = $CA_DIR
database = \$dir/index.txt
new_certs_dir = \$dir/issued
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
crlnumber = \$dir/crlnumber
serial = \$dir/serial
default_md = sha256
default_days = $DAYS
default_crl_days = $CRL_DAYS
policy = policy_cn
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_cn]
commonName = supplied

[req]
distinguished_name = req_dn
prompt = no

[req_dn]

[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
}

make_ca() {
    mkdir -p "$CA_DIR/issued"
    if [[ -e $CA_DIR/ca.key ]]; then
        [[ -e $CA_DIR/ca.crt ]] || die "$CA_DIR/ca.key exists without ca.crt: not touching it"
        openssl_conf
        return 0
    fi
    [[ -e $CA_DIR/ca.crt ]] && die "$CA_DIR/ca.crt exists without ca.key: not touching it"
    openssl ecparam -name prime256v1 -genkey -noout -out "$CA_DIR/ca.key"
    chmod 0600 "$CA_DIR/ca.key"
    openssl_conf
    openssl req -x509 -new -config "$CA_DIR/openssl.cnf" -extensions ca_ext -sha256 \
        -key "$CA_DIR/ca.key" -subj "$CA_SUBJECT" -days "$CA_DAYS" -out "$CA_DIR/ca.crt"
    chmod 0644 "$CA_DIR/ca.crt"
    : >"$CA_DIR/index.txt"
    echo 1000 >"$CA_DIR/crlnumber"
    openssl rand -hex 16 >"$CA_DIR/serial"
    write_crl
    echo "made the CA: $CA_DIR/ca.crt (its key $CA_DIR/ca.key: keep it offline)" >&2
}

write_crl() {
    openssl ca -batch -config "$CA_DIR/openssl.cnf" -gencrl -out "$CA_DIR/crl.pem" 2>/dev/null
    chmod 0644 "$CA_DIR/crl.pem"
}

# issued DIR STEM: whether DIR holds a certificate or key already (then it is kept).
issued() {
    if [[ -e $1/$2.crt || -e $1/$2.key ]]; then
        echo "kept $1/$2.crt: it exists (revoke it and remove $1 to issue anew)" >&2
        return 0
    fi
    return 1
}

# issue DIR CN EXTENSIONS FILE_STEM: a key and a certificate in DIR, signed by the CA.
# Not called in a condition, so that set -e stops at the first failing openssl.
issue() {
    local dir=$1 cn=$2 ext=$3 stem=$4
    mkdir -p "$dir"
    local work
    work=$(mktemp -d)
    # The CN is one RDN even when it holds a slash: escape it for -subj.
    local subject="/CN=${cn//\//\\/}"
    openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
    openssl req -new -config "$CA_DIR/openssl.cnf" -key "$work/key.pem" -subj "$subject" \
        -out "$work/req.csr"
    printf '%s\n' "$ext" >"$work/ext.cnf"
    openssl ca -batch -notext -config "$CA_DIR/openssl.cnf" \
        -extfile "$work/ext.cnf" -in "$work/req.csr" -out "$work/cert.pem" 2>"$work/ca.log" ||
        { cat "$work/ca.log" >&2; rm -rf "$work"; die "openssl ca refused to sign CN=$cn"; }
    install -m 0600 "$work/key.pem" "$dir/$stem.key"
    install -m 0644 "$work/cert.pem" "$dir/$stem.crt"
    install -m 0644 "$CA_DIR/ca.crt" "$dir/ca.crt"
    rm -rf "$work"
    echo "issued CN=$cn: $dir/$stem.crt, $dir/$stem.key" >&2
}

client_ext() {
    cat <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# client CN ACL_LINES: a client certificate under clients/CN with the acl lines it needs.
client() {
    local cn=$1 acl=$2 dir="$OUT/clients/$1"
    if ! issued "$dir" client; then
        issue "$dir" "$cn" "$(client_ext)" client
        printf '%s\n' "$acl" >"$dir/acl"
        chmod 0644 "$dir/acl"
    fi
    if [[ -e $dir/acl ]]; then cat "$dir/acl"; fi
}

cmd_server() {
    local host=$1 san="" name
    shift
    for name in "$host" "$@"; do
        [[ $name =~ ^[A-Za-z0-9.:-]+$ ]] || die "'$name' is not a host name or an address"
        if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then
            san+="IP:$name,"
        else
            san+="DNS:$name,"
        fi
    done
    local ext
    ext=$(printf '%s\n' \
        "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" \
        "extendedKeyUsage = serverAuth" \
        "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid" \
        "subjectAltName = ${san%,}")
    # serverAuth only: the broker's own key cannot log in as a client (clients need clientAuth).
    issued "$OUT/servers/$host" server || issue "$OUT/servers/$host" "$host" "$ext" server
}

cmd_agent() {
    check_name club "$1"
    check_name agent "$2"
    # A one-level CN such as "cloud" turns the acl pattern fiscal/v1/%u/evt/# into
    # fiscal/v1/cloud/evt/#: the topics of an agent named "evt" in club "cloud". No agent
    # may carry such a name, so no other identity ever lands on an agent's topics.
    case $2 in cmd | evt) die "an agent may not be named '$2' (it would alias acl patterns)" ;; esac
    issued "$OUT/agents/$1/$2" client || issue "$OUT/agents/$1/$2" "$1/$2" "$(client_ext)" client
}

cmd_crm() {
    check_name club "$1"
    local cn="crm:$1"
    if [[ $# -gt 1 ]]; then
        check_name name "$2"
        cn+=":$2"
    fi
    client "$cn" "# $cn: the CRM of club $1: commands its agents, reads their results and health
user $cn
topic write fiscal/v1/$1/+/cmd/#
topic read fiscal/v1/$1/+/evt/#
topic read fiscal/v1/$1/+/health"
}

cmd_cloud() {
    if [[ $# -eq 0 ]]; then
        # Its block is in the shipped acl: none here, so clients/*/acl can be appended whole.
        issued "$OUT/clients/cloud" client || issue "$OUT/clients/cloud" cloud "$(client_ext)" client
        echo "# cloud: its block is in the shipped acl"
        return
    fi
    check_name name "$1"
    client "cloud:$1" "# cloud:$1: another instance of the cloud service
user cloud:$1
topic read fiscal/v1/#
topic write fiscal/v1/+/+/cmd/receipt
topic write fiscal/v1/+/+/cmd/shift"
}

cmd_support() {
    check_name name "$1"
    client "support:$1" "# support:$1: a support tool: reads every agent's health
user support:$1
topic read fiscal/v1/+/+/health"
}

cmd_revoke() {
    local cn=$1 cert
    if [[ $cn == */* ]]; then
        cert="$OUT/agents/$cn/client.crt"
    else
        cert="$OUT/clients/$cn/client.crt"
    fi
    [[ -e $cert ]] || die "no certificate for CN=$cn at $cert"
    openssl ca -batch -config "$CA_DIR/openssl.cnf" -revoke "$cert" 2>/dev/null ||
        die "openssl ca could not revoke $cert (revoked already?)"
    write_crl
    echo "revoked CN=$cn; install $CA_DIR/crl.pem as the broker's crlfile and restart it" >&2
}

OUT=./pki
while getopts "d:h" opt; do
    case $opt in
    d) OUT=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || usage
command -v openssl >/dev/null || die "needs the openssl command"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CA_DIR="$OUT/ca"

# arguments MIN MAX COUNT: the command takes MIN to MAX arguments.
arguments() {
    if (($3 < $1 || $3 > $2)); then usage; fi
}

make_ca
what=$1
shift
case $what in
ca) arguments 0 0 $# ;;
server) arguments 1 99 $# && cmd_server "$@" ;;
agent) arguments 2 2 $# && cmd_agent "$@" ;;
crm) arguments 1 2 $# && cmd_crm "$@" ;;
cloud) arguments 0 1 $# && cmd_cloud "$@" ;;
support) arguments 1 1 $# && cmd_support "$@" ;;
revoke) arguments 1 1 $# && cmd_revoke "$@" ;;
crl) arguments 0 0 $# && write_crl ;;
*) usage ;;
esac
