#!/usr/bin/env bash
# netfence local cluster: a single-node Kubernetes built from upstream Go modules and Debian
# packages, for machines with no container registry and no privileged containers (where kind
# and Minikube cannot run). Everything runs as host processes; pods run in containerd.
#
#   localcluster/cluster.sh check    can this machine run it? (root, Go, kernel features)
#   localcluster/cluster.sh build    compile the pinned binaries into the cache (idempotent)
#   localcluster/cluster.sh images   build the local images (pause, agnhost, CoreDNS) into the cache
#   localcluster/cluster.sh up       build if needed, start everything, wait until DNS answers
#   localcluster/cluster.sh down     stop everything; leaves nothing running, mounted or in iptables
#   localcluster/cluster.sh status   what runs
#   localcluster/cluster.sh env      the shell variables a user needs (KUBECONFIG, ...)
#
# Versions: localcluster/versions.env. Docs: docs/providers.md ("A real cluster without Docker
# or a registry"). Traffic never leaves the machine: the only addresses are loopback, the
# node's, pods', Services', and the test "internet" host in a network namespace made here.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE="${NETFENCE_LOCALCLUSTER_CACHE:-/var/cache/netfence/localcluster}"
STATE="${NETFENCE_LOCALCLUSTER_STATE:-/var/lib/netfence/localcluster}"
RUN="/run/netfence-localcluster"
NODE_NAME="netfence-local"
POD_CIDR="10.244.0.0/16"
NODE_POD_CIDR="10.244.0.0/24"
SERVICE_CIDR="10.96.0.0/12"
API_SERVICE_IP="10.96.0.1"
DNS_SERVICE_IP="10.96.0.10"
BRIDGE="nf0"
INTERNET_NS="nf-internet"
INTERNET_HOST_IF="nf-inet0"
INTERNET_GATEWAY="203.0.113.9"
INTERNET_ADDR="203.0.113.10"   # TEST-NET-3 (RFC 5737): never routed on the internet
BIN="$CACHE/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-coredns-$COREDNS_VERSION-kube-router-$KUBE_ROUTER_VERSION"
IMAGES="$CACHE/images"
IMAGE_PAUSE="localhost/netfence/pause:$PAUSE_VERSION"
IMAGE_AGNHOST="localhost/e2e-test-images/agnhost:$AGNHOST_VERSION-netfence"
IMAGE_COREDNS="localhost/netfence/coredns:$COREDNS_VERSION"
CONTAINERD_SOCK="$RUN/containerd.sock"
KUBECONFIG_ADMIN="$STATE/admin.kubeconfig"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router internet-host)

say() { printf '%s localcluster: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
phase_start() { PHASE_NAME="$1"; PHASE_T0=$(date +%s); say "$1 ..."; }
phase_end() { say "$PHASE_NAME done in $(( $(date +%s) - PHASE_T0 ))s"; }
kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# ---------------------------------------------------------------------------------------------
# check: what this machine must have. Lists everything missing and exits 1.
# ---------------------------------------------------------------------------------------------
cmd_check() {
  local missing=()
  [ "$(id -u)" = 0 ] || missing+=("root (containerd, kubelet and iptables need it)")
  command -v go >/dev/null || missing+=("the Go toolchain (go)")
  for tool in containerd containerd-shim-runc-v2 runc ctr iptables ipset conntrack ip openssl python3 gcc; do
    command -v "$tool" >/dev/null || missing+=("$tool (Debian: $(pkg_of "$tool"))")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=("CNI plugins (Debian: containernetworking-plugins)")
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || missing+=("a cgroup filesystem")
  if [ "$(id -u)" = 0 ]; then
    modprobe br_netfilter 2>/dev/null || true
    [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || missing+=("the br_netfilter kernel module")
    ip link add nf-check type bridge 2>/dev/null && ip link del nf-check || missing+=("bridge interfaces")
    ipset create nf-check hash:ip 2>/dev/null && ipset destroy nf-check || missing+=("ipset hash:ip (xt_set)")
    # `down` removes every KUBE-*/CNI-* iptables rule and cni-* network namespace: never beside another node
    local foreign
    foreign="$(pgrep -a -x 'kubelet|kube-proxy|kube-router|kube-apiserver' 2>/dev/null | grep -v -- "$BIN/" || true)"
    [ -z "$foreign" ] || missing+=("a machine without another Kubernetes node on it (running: ${foreign//$'\n'/; })")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'localcluster: this machine cannot run the local cluster; missing:\n' >&2
    printf '  - %s\n' "${missing[@]}" >&2
    return 1
  fi
  say "check: root, Go $(go env GOVERSION), containerd, runc, CNI plugins, iptables, ipset, br_netfilter: all present"
}

pkg_of() {
  case "$1" in
    containerd|containerd-shim-runc-v2|ctr) echo containerd ;;
    iptables) echo iptables ;; ipset) echo ipset ;; conntrack) echo conntrack ;;
    ip) echo iproute2 ;; openssl) echo openssl ;; gcc) echo gcc ;; *) echo "$1" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# build: Go modules of ours (localcluster/modules/*) that require the pinned upstream modules.
# ---------------------------------------------------------------------------------------------
cmd_build() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl agnhost etcd coredns kube-router pause)
  local have=1
  for b in "${want[@]}"; do [ -x "$BIN/$b" ] || have=0; done
  if [ "$have" = 1 ]; then say "build: cached in $BIN"; return 0; fi
  command -v go >/dev/null || die "build needs the Go toolchain (go), 1.25 or newer"
  command -v gcc >/dev/null || die "build needs gcc (Debian: gcc) for the pause binary"
  mkdir -p "$BIN.tmp"
  export CGO_ENABLED=0 GOFLAGS="-mod=readonly -trimpath -buildvcs=false"
  local ver="k8s.io/component-base/version" cver="k8s.io/client-go/pkg/version" minor
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  for p in "$ver" "$cver"; do
    ld="$ld -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  phase_start "build: Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION and agnhost (a cold build takes about 6 min on 2 cores)"
  (cd "$HERE/modules/kubernetes" && go build -ldflags "$ld" -o "$BIN.tmp/" tool)
  [ -x "$BIN.tmp/server" ] && mv "$BIN.tmp/server" "$BIN.tmp/etcd"
  phase_end
  phase_start "build: CoreDNS $COREDNS_VERSION"
  (cd "$HERE/modules/coredns" && go build -ldflags "-s -w" -o "$BIN.tmp/coredns" .)
  phase_end
  phase_start "build: kube-router $KUBE_ROUTER_VERSION"
  (cd "$HERE/modules/kube-router" && go build -o "$BIN.tmp/" \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" tool)
  phase_end
  phase_start "build: pause $PAUSE_VERSION (C, from k8s.io/kubernetes build/pause/linux/pause.c)"
  local kmod
  kmod="$(cd "$HERE/modules/kubernetes" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
  gcc -Os -static -DVERSION="v$PAUSE_VERSION-netfence" -o "$BIN.tmp/pause" "$kmod/build/pause/linux/pause.c"
  phase_end
  rm -rf "$BIN" && mv "$BIN.tmp" "$BIN"
  say "build: binaries in $BIN"
}

# ---------------------------------------------------------------------------------------------
# images: OCI archives built from folders (localcluster/ociimage.py), imported at `up`.
# ---------------------------------------------------------------------------------------------
copy_with_libs() {  # copy_with_libs ROOTFS /path/to/binary...: the binaries and their shared libraries
  local root="$1"; shift
  local f lib
  for f in "$@"; do
    install -D -m 0755 "$f" "$root$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' | sort -u); do
      [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
    done
  done
}

cmd_images() {
  local key="$IMAGES/$KUBERNETES_VERSION-$COREDNS_VERSION-$PAUSE_VERSION-$AGNHOST_VERSION"
  if [ -f "$key/done" ]; then say "images: cached in $key"; return 0; fi
  cmd_build
  phase_start "images: pause, agnhost (with curl, dig, sh), CoreDNS"
  command -v curl >/dev/null && command -v dig >/dev/null && [ -x /bin/busybox ] \
    || die "images need curl, dig and busybox from Debian (apt-get install curl dnsutils busybox-static)"
  local tmp; tmp="$(mktemp -d)"
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/pause" "$tmp/agnhost/bin" "$tmp/agnhost/etc" "$tmp/agnhost/tmp" "$tmp/coredns/etc/coredns" "$key.tmp"
  install -m 0755 "$BIN/pause" "$tmp/pause/pause"
  install -m 0755 "$BIN/agnhost" "$tmp/agnhost/agnhost"
  install -m 0755 /bin/busybox "$tmp/agnhost/bin/busybox"
  for applet in sh cat ls sleep echo nc wget ip hostname env; do ln -s busybox "$tmp/agnhost/bin/$applet"; done
  copy_with_libs "$tmp/agnhost" "$(command -v curl)" "$(command -v dig)"
  chmod 1777 "$tmp/agnhost/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\nagnhost:x:65532:65532:agnhost:/tmp:/bin/sh\n' >"$tmp/agnhost/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nagnhost:x:65532:\n' >"$tmp/agnhost/etc/group"
  install -m 0755 "$BIN/coredns" "$tmp/coredns/coredns"
  local py="python3 $HERE/ociimage.py --arch $(go env GOARCH)"
  $py "$tmp/pause" "$IMAGE_PAUSE" "$key.tmp/pause.tar" --entrypoint '["/pause"]' --user 65535:65535 >&2
  $py "$tmp/agnhost" "$IMAGE_AGNHOST" "$key.tmp/agnhost.tar" --entrypoint '["/agnhost"]' \
    --env PATH=/usr/local/bin:/usr/bin:/bin >&2
  $py "$tmp/coredns" "$IMAGE_COREDNS" "$key.tmp/coredns.tar" --entrypoint '["/coredns"]' >&2
  rm -rf "$tmp" "$key" && mv "$key.tmp" "$key" && touch "$key/done"
  trap - EXIT
  phase_end
}

# ---------------------------------------------------------------------------------------------
# up: certificates, configs, processes, CoreDNS; every wait is bounded and says what it waits for.
# ---------------------------------------------------------------------------------------------
node_ip() {  # the node's own address: the source address of its default route (no packet is sent)
  { ip -4 route get 1.2.3.4 2>/dev/null || true; } | { grep -oE 'src [0-9.]+' || true; } | awk '{print $2}'
}

cert() {  # cert NAME CN O [SAN]: a key and a certificate signed by the cluster CA
  local name="$1" cn="$2" org="$3" san="${4:-}" subj="/CN=$2"
  [ -n "$org" ] && subj="/O=$org/CN=$cn"
  openssl genrsa -out "$STATE/pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$STATE/pki/$name.key" -subj "$subj" -out "$STATE/pki/$name.csr" 2>/dev/null
  local ext="$STATE/pki/$name.ext"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >"$ext"
  [ -n "$san" ] && printf 'subjectAltName=%s\n' "$san" >>"$ext"
  openssl x509 -req -in "$STATE/pki/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" \
    -CAcreateserial -days 30 -sha256 -extfile "$ext" -out "$STATE/pki/$name.crt" 2>/dev/null
}

kubeconfig() {  # kubeconfig NAME USER_CERT: a kubeconfig with one context named netfence-local
  local out="$STATE/$1.kubeconfig" c="$STATE/pki/$2"
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: netfence-local
    cluster:
      server: https://$NODE_IP:6443
      certificate-authority-data: $(base64 -w0 "$STATE/pki/ca.crt")
users:
  - name: $2
    user:
      client-certificate-data: $(base64 -w0 "$c.crt")
      client-key-data: $(base64 -w0 "$c.key")
contexts:
  - name: netfence-local
    context: {cluster: netfence-local, user: $2}
current-context: netfence-local
EOF
  chmod 0600 "$out"
}

make_pki() {
  mkdir -p "$STATE/pki"
  openssl genrsa -out "$STATE/pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$STATE/pki/ca.key" -subj "/CN=netfence-local-ca" -days 30 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$STATE/pki/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert admin netfence-admin system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert kubelet-serving "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
  cert kube-proxy system:kube-proxy ""
  cert kube-router netfence:kube-router ""
  cert internet-host internet.netfence.test "" "IP:$INTERNET_ADDR"
  openssl genrsa -out "$STATE/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub" 2>/dev/null
  kubeconfig admin admin
  kubeconfig controller-manager controller-manager
  kubeconfig scheduler scheduler
  kubeconfig kubelet kubelet
  kubeconfig kube-proxy kube-proxy
  kubeconfig kube-router kube-router
}

start() {  # start NAME CMD...: a background process with its log and pid file
  local name="$1"; shift
  say "start $name"
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_for() {  # wait_for SECONDS WHAT CMD...: poll CMD every 2 s; on timeout show the log tail
  local limit="$1" what="$2" t0; shift 2
  t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) - t0 > limit )); then
      say "timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 2
  done
  say "ready: $what ($(( $(date +%s) - t0 ))s)"
}

write_configs() {
  mkdir -p "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/containerd"
  cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE_PAUSE"
  # no CAP_SYS_RESOURCE here: a sandbox may not get a lower oom_score_adj than containerd's own
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF
  cat >"$STATE/cni/net.d/10-netfence.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "netfence",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$STATE/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  printf 'nameserver 127.0.0.53\n' >"$STATE/kubelet/resolv.conf"  # CoreDNS has no forward: nothing leaves
  cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
# This kernel mounts cgroup v1; kubelet v1.35 refuses it unless told (KEP-5573).
failCgroupV1: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
resolvConf: $STATE/kubelet/resolv.conf
tlsCertFile: $STATE/pki/kubelet-serving.crt
tlsPrivateKeyFile: $STATE/pki/kubelet-serving.key
failSwapOn: false
# No CAP_SYS_RESOURCE: kubelet may not lower its own oom_score_adj.
oomScoreAdj: 0
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
maxPods: 60
serializeImagePulls: false
EOF
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
oomScoreAdj: 0
conntrack: {maxPerCore: 0}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
EOF
}

SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables)

restore_sysctls() {  # the values the machine had before `up`
  [ -f "$RUN/sysctl.orig" ] || return 0
  local line
  while read -r line; do sysctl -qw "$line" 2>/dev/null || true; done <"$RUN/sysctl.orig"
}

host_network() {
  modprobe br_netfilter 2>/dev/null || true
  local key
  for key in "${SYSCTLS[@]}"; do printf '%s=%s\n' "$key" "$(sysctl -n "$key")"; done >"$RUN/sysctl.orig"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  ip netns delete "$INTERNET_NS" 2>/dev/null || true  # a leftover of a run that died
  # The test "internet" host: 203.0.113.10 in a network namespace of ours, serving HTTPS on 443.
  ip netns add "$INTERNET_NS"
  ip link add "$INTERNET_HOST_IF" type veth peer name eth0 netns "$INTERNET_NS"
  ip addr add "$INTERNET_GATEWAY/30" dev "$INTERNET_HOST_IF"
  ip link set "$INTERNET_HOST_IF" up
  ip -n "$INTERNET_NS" addr add "$INTERNET_ADDR/30" dev eth0
  ip -n "$INTERNET_NS" link set lo up
  ip -n "$INTERNET_NS" link set eth0 up
  ip -n "$INTERNET_NS" route add default via "$INTERNET_GATEWAY"
  start internet-host ip netns exec "$INTERNET_NS" python3 "$HERE/internet_host.py" \
    --cert "$STATE/pki/internet-host.crt" --key "$STATE/pki/internet-host.key" --port 443
}

cmd_up() {
  cmd_check
  local T0; T0=$(date +%s)
  if [ -d "$RUN" ] && ls "$RUN"/*.pid >/dev/null 2>&1; then
    say "a previous cluster is still (partly) running: stopping it first"
    cmd_down
  fi
  cmd_build
  cmd_images
  NODE_IP="$(node_ip)"
  [ -n "$NODE_IP" ] || die "cannot tell the node's address (no IPv4 route)"
  rm -rf "$STATE" && mkdir -p "$STATE/logs" "$RUN"
  phase_start "up: certificates and configuration (node $NODE_NAME, $NODE_IP)"
  make_pki
  write_configs
  host_network
  phase_end

  phase_start "up: control plane"
  start etcd "$BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381
  wait_for 60 etcd curl -fsS http://127.0.0.1:2381/health
  local P="$STATE/pki"
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --advertise-address "$NODE_IP" --bind-address 0.0.0.0 --secure-port 6443 \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction,PodSecurity \
    --client-ca-file "$P/ca.crt" --tls-cert-file "$P/apiserver.crt" --tls-private-key-file "$P/apiserver.key" \
    --kubelet-client-certificate "$P/apiserver-kubelet-client.crt" --kubelet-client-key "$P/apiserver-kubelet-client.key" \
    --service-account-key-file "$P/sa.pub" --service-account-signing-key-file "$P/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --kubelet-preferred-address-types InternalIP
  wait_for 120 "kube-apiserver /readyz" kubectl get --raw /readyz
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --leader-elect=false --use-service-account-credentials --root-ca-file "$P/ca.crt" \
    --service-account-private-key-file "$P/sa.key" --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
    --allocate-node-cidrs --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 --service-cluster-ip-range "$SERVICE_CIDR" \
    --bind-address 127.0.0.1
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1
  phase_end

  phase_start "up: node (containerd, kubelet, kube-proxy, kube-router)"
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for 60 containerd ctr --address "$CONTAINERD_SOCK" version
  local tar
  for tar in "$IMAGES/$KUBERNETES_VERSION-$COREDNS_VERSION-$PAUSE_VERSION-$AGNHOST_VERSION"/*.tar; do
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$tar" >&2
  done
  start kubelet "$BIN/kubelet" --config "$STATE/kubelet/config.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
    --root-dir "$STATE/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  kubectl apply -f "$HERE/manifests/rbac.yaml" >&2
  # kube-proxy and kube-router look their node up once at start: wait until kubelet registered it
  wait_for 120 "node $NODE_NAME registered" kubectl get "node/$NODE_NAME"
  start kube-proxy "$BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
  start kube-router "$BIN/kube-router" --kubeconfig "$STATE/kube-router.kubeconfig" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --hostname-override "$NODE_NAME" --service-cluster-ip-range "$SERVICE_CIDR" --metrics-port 0 \
    --health-port 20244
  wait_for 120 "node $NODE_NAME Ready" kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
  wait_for 60 "kube-router healthy (NetworkPolicy controller synced)" curl -fsS http://127.0.0.1:20244/healthz
  phase_end

  phase_start "up: CoreDNS as a pod (kube-system, k8s-app=kube-dns, Service kube-dns $DNS_SERVICE_IP)"
  sed -e "s|@IMAGE@|$IMAGE_COREDNS|g" -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" "$HERE/manifests/coredns.yaml" \
    | kubectl apply -f - >&2
  wait_for 180 "CoreDNS rolled out" kubectl -n kube-system rollout status deployment/coredns --timeout=5s
  wait_for 60 "DNS answers kubernetes.default" dns_answers
  phase_end
  require_running
  write_env
  say "up: cluster ready in $(( $(date +%s) - T0 ))s; export KUBECONFIG=$KUBECONFIG_ADMIN"
}

require_running() {  # every component must still run: a dead enforcer would make every probe "allowed"
  local name pid dead=()
  for name in "${COMPONENTS[@]}"; do
    pid="$(cat "$RUN/$name.pid" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || dead+=("$name")
  done
  if [ ${#dead[@]} -gt 0 ]; then
    for name in "${dead[@]}"; do say "$name is not running; the end of $STATE/logs/$name.log:"; tail -5 "$STATE/logs/$name.log" >&2 || true; done
    die "components stopped: ${dead[*]}"
  fi
}

dns_answers() {  # dig exits 0 on SERVFAIL too: require the kubernetes Service's address
  [ "$(dig +time=1 +tries=1 +short @"$DNS_SERVICE_IP" kubernetes.default.svc.cluster.local A)" = "$API_SERVICE_IP" ]
}

write_env() {  # the facts inventories/local reads (docs/providers.md)
  printf '%s:6443\n' "$NODE_IP" >"$STATE/api-server-endpoint"
  cat >"$STATE/enforcer.json" <<EOF
{"name": "kube-router", "version": "$KUBE_ROUTER_VERSION", "enforces": "yes",
 "how": "kube-router --run-firewall only (iptables + ipset), REJECT with icmp-port-unreachable",
 "cni": "bridge + host-local (containernetworking-plugins, Debian)", "kubernetes": "$KUBERNETES_VERSION",
 "runtime": "$(containerd --version | awk '{print $1, $3}')"}
EOF
  mkdir -p "$STATE/bin" && ln -sf "$BIN/kubectl" "$STATE/bin/kubectl"
}

cmd_env() {
  printf 'export KUBECONFIG=%s\n' "$KUBECONFIG_ADMIN"
  printf '# facts for inventories/local: %s/api-server-endpoint, %s/enforcer.json\n' "$STATE" "$STATE"
}

# ---------------------------------------------------------------------------------------------
# down: stop in reverse order, then remove what the processes left in the kernel.
# ---------------------------------------------------------------------------------------------
stop() {  # stop NAME: TERM, wait up to 10 s, then KILL
  local pidfile="$RUN/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

pod_cgroups() {  # the cgroup folders kubelet made for pods (cgroupfs driver; v1 and v2 layouts)
  find /sys/fs/cgroup -maxdepth 2 -type d -name kubepods 2>/dev/null || true
}

pod_pids() {  # every process in those cgroups
  pod_cgroups | while read -r d; do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u
}

kill_pods() {  # every process of every pod (containers outlive their shims: runc gives each its own session)
  local round pids
  for round in 1 2 3 4 5 6 7 8 9 10; do
    pids="$(pod_pids)"
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086 # one pid a word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  done
  say "warning: pod processes still alive after 5 s: $pids"
}

cmd_down() {
  phase_start "down"
  stop kubelet
  kill_pods
  # the shims of our containerd (found by its socket), then the components in reverse order
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  local i
  for ((i=${#COMPONENTS[@]}-1; i>=0; i--)); do stop "${COMPONENTS[$i]}"; done
  # the pods' cgroup folders, deepest first (empty now)
  pod_cgroups | while read -r d; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
  # mounts under our folders (pod volumes, overlay snapshots, sandbox shm), deepest first
  { findmnt -rn -o TARGET | grep -E "^($STATE|$RUN)/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  # network: pod namespaces made by the CNI plugins, our bridge, the test internet host
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^cni-' || true); do ip netns delete "$ns" 2>/dev/null || true; done
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$INTERNET_HOST_IF" 2>/dev/null || true
  ip netns delete "$INTERNET_NS" 2>/dev/null || true
  # iptables rules (IPv4 and IPv6) and ipsets of kubelet and kube-proxy (KUBE-*), kube-router
  # (KUBE-ROUTER-*, KUBE-*) and the CNI plugins (CNI-*); `check` refuses to start beside another kubelet
  local t save restore
  for save in iptables ip6tables; do
    restore="$save-restore"
    for t in filter nat mangle raw; do
      "$save-save" -t "$t" 2>/dev/null | grep -vE -- '(KUBE-|CNI-)' | "$restore" -T "$t" 2>/dev/null || true
    done
  done
  for s in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router|inet:|inet6:)' || true); do ipset destroy "$s" 2>/dev/null || true; done
  restore_sysctls
  rm -rf "$RUN"
  phase_end
  cmd_status_quiet || true
}

cmd_status_quiet() {
  local left pods
  left="$(pgrep -af "$BIN/|$CONTAINERD_SOCK|$HERE/internet_host.py" || true)"
  pods="$(pod_pids)"
  if [ -n "$left$pods" ]; then say "still running:"; echo "$left" "${pods:+pod processes: $pods}" >&2; return 1; fi
  say "nothing of the local cluster is running"
}

cmd_status() {
  local name pid
  for name in "${COMPONENTS[@]}"; do
    pid="$(cat "$RUN/$name.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$name: running (pid $pid)"; else echo "$name: stopped"; fi
  done
  [ -f "$KUBECONFIG_ADMIN" ] && [ -x "$BIN/kubectl" ] && kubectl get nodes,pods -A -o wide 2>/dev/null || true
}

case "${1:-}" in
  check) cmd_check ;;
  build) cmd_build ;;
  images) cmd_images ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
