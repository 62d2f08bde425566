#!/usr/bin/env bash
# The firewall of a Nomad client node for Nomad Shell sandboxes in Nomad's bridge network: a sandbox
# on the bridge reaches the control plane's Attach listener (TCP, TLS) and nothing else: not this
# node's own ports (Nomad's HTTP, sshd, ...), not another sandbox on this or any other bridge, not
# anything routed out. IPv6 from the bridge is dropped whole. Run it as root on every client node
# that runs sandboxes, once per bridge (Nomad's client option bridge_network_name, "nomad" by
# default); running it again replaces the rules, so it is safe to run at every boot.
#
#   sandbox-firewall.sh apply  --bridge NAME --attach ADDRESS:PORT [--attach ...] [--loopback]
#   sandbox-firewall.sh remove --bridge NAME
#   sandbox-firewall.sh drops  --bridge NAME     packets dropped so far (IPv4 + IPv6), one number
#   sandbox-firewall.sh show   --bridge NAME     the rules with their counters
#
# ADDRESS:PORT is an Attach address exactly as sandboxes dial it (a replica's --attach-address; give
# one --attach per replica, as sandboxes redial the others when theirs is gone), an IPv4 address: a
# sandbox cannot resolve names (DNS is one of the things it cannot reach). With --loopback the control plane runs on this node with its Attach listener on
# 127.0.0.1:PORT (--attach-listen 127.0.0.1:PORT): ADDRESS:PORT from the bridge is carried to that
# listener (DNAT, with route_localnet on the bridge), so the listener needs no address that anyone
# else could reach. ADDRESS then only has to be an address no one else uses (it never leaves this
# node); the control plane's certificate names it.
#
# The rules sit in the mangle table's PREROUTING, before routing, NAT and the filter table where
# Nomad's CNI plugins add their own accepting rules: a packet dropped there is dropped for good.
# Traffic between sandboxes on one bridge passes there too when net.bridge.bridge-nf-call-iptables
# (and -ip6tables) is 1 (the br_netfilter module): apply refuses to run without it.
set -euo pipefail

log() { printf '[sandbox-firewall] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() {
  echo "usage: $0 apply --bridge NAME --attach ADDRESS:PORT [--attach ...] [--loopback] | remove|drops|show --bridge NAME" >&2
  exit 2
}

ipt() { iptables -w 10 "$@"; }
ip6t() { ip6tables -w 10 "$@"; }

action=${1:-}
shift || usage
bridge='' loopback=''
attach=()
while (($#)); do
  case "$1" in
    --bridge) bridge=${2:?--bridge needs a name}; shift 2 ;;
    --attach) attach+=("${2:?--attach needs ADDRESS:PORT}"); shift 2 ;;
    --loopback) loopback=1; shift ;;
    *) usage ;;
  esac
done
[[ -n "$bridge" ]] || usage
[[ "$bridge" =~ ^[A-Za-z0-9_.-]{1,15}$ ]] || die "--bridge: \"$bridge\" is not an interface name"
((EUID == 0)) || die "run me as root: I change the node's firewall"
command -v iptables >/dev/null && command -v ip6tables >/dev/null || die "iptables and ip6tables are needed (Debian: apt-get install iptables)"
# One chain per bridge and table (a chain name has at most 28 characters, a bridge at most 15).
CHAIN="NSB-$bridge"

# Removes the jumps to this bridge's chain from $2's chain $3 ($1: ipt or ip6t), then the chain.
unhook() {
  local tool=$1 table=$2 parent=$3
  while "$tool" -t "$table" -D "$parent" -i "$bridge" -j "$CHAIN" 2>/dev/null; do :; done
  if "$tool" -t "$table" -n -L "$CHAIN" >/dev/null 2>&1; then
    "$tool" -t "$table" -F "$CHAIN"
    "$tool" -t "$table" -X "$CHAIN"
  fi
}

# Makes this bridge's chain in table $2 (empty) and jumps to it first from $3 for packets from the bridge.
hook() {
  local tool=$1 table=$2 parent=$3
  "$tool" -t "$table" -N "$CHAIN" 2>/dev/null || "$tool" -t "$table" -F "$CHAIN"
  "$tool" -t "$table" -C "$parent" -i "$bridge" -j "$CHAIN" 2>/dev/null \
    || "$tool" -t "$table" -I "$parent" 1 -i "$bridge" -j "$CHAIN"
}

remove() {
  unhook ipt mangle PREROUTING
  unhook ip6t mangle PREROUTING
  unhook ipt nat PREROUTING
  [[ -e "/proc/sys/net/ipv4/conf/$bridge/route_localnet" ]] && echo 0 > "/proc/sys/net/ipv4/conf/$bridge/route_localnet"
  return 0
}

apply() {
  ((${#attach[@]})) || die "apply needs --attach ADDRESS:PORT"
  local target setting
  for target in "${attach[@]}"; do
    [[ "$target" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}:([0-9]{1,5})$ ]] && ((BASH_REMATCH[2] >= 1 && BASH_REMATCH[2] <= 65535)) \
      || die "--attach: \"$target\" is not IPV4-ADDRESS:PORT (sandboxes dial an address: they cannot resolve names)"
  done
  for setting in bridge-nf-call-iptables bridge-nf-call-ip6tables; do
    [[ "$(cat "/proc/sys/net/bridge/$setting" 2>/dev/null)" == 1 ]] \
      || die "net.bridge.$setting is not 1: traffic between sandboxes on one bridge would pass unfiltered (modprobe br_netfilter; sysctl -w net.bridge.$setting=1)"
  done
  remove
  # IPv4: TCP to the Attach addresses only; everything else (ICMP, UDP, DNS, other ports, other hosts) dropped.
  hook ipt mangle PREROUTING
  for target in "${attach[@]}"; do
    ipt -t mangle -A "$CHAIN" -p tcp -d "${target%:*}" --dport "${target##*:}" -m comment --comment "nomad-shell: Attach" -j RETURN
  done
  ipt -t mangle -A "$CHAIN" -m comment --comment "nomad-shell: everything else" -j DROP
  # IPv6: nothing (Nomad's bridge gives sandboxes IPv4 only; link-local addresses exist all the same).
  hook ip6t mangle PREROUTING
  ip6t -t mangle -A "$CHAIN" -m comment --comment "nomad-shell: everything else" -j DROP
  if [[ -n "$loopback" ]]; then
    # The bridge is made here when Nomad has not made it yet (Nomad's CNI bridge plugin takes it as it
    # finds it), so that route_localnet is on before the first sandbox dials.
    ip link show "$bridge" >/dev/null 2>&1 || ip link add name "$bridge" type bridge
    ip link set "$bridge" up
    echo 1 > "/proc/sys/net/ipv4/conf/$bridge/route_localnet"
    hook ipt nat PREROUTING
    for target in "${attach[@]}"; do
      ipt -t nat -A "$CHAIN" -p tcp -d "${target%:*}" --dport "${target##*:}" \
        -m comment --comment "nomad-shell: Attach on loopback" -j DNAT --to-destination "127.0.0.1:${target##*:}"
    done
  fi
  log "$bridge: sandboxes reach ${attach[*]}$([[ -n "$loopback" ]] && echo " (carried to 127.0.0.1, same port)") and nothing else"
}

# The packet count of the DROP rule in the mangle chain of $1 (ipt or ip6t); 0 without one.
dropped() {
  "$1" -t mangle -n -v -x -L "$CHAIN" 2>/dev/null | awk '$3 == "DROP" { n += $1 } END { print n + 0 }'
}

case "$action" in
  apply) apply ;;
  remove) remove ;;
  drops) echo $(($(dropped ipt) + $(dropped ip6t))) ;;
  show)
    ipt -t mangle -n -v -x -L "$CHAIN"
    ip6t -t mangle -n -v -x -L "$CHAIN"
    ipt -t nat -n -v -x -L "$CHAIN" 2>/dev/null || true
    ;;
  *) usage ;;
esac
