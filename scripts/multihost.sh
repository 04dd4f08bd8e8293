#!/usr/bin/env bash
# Runs BatchAspire across several "hosts" on this machine: Linux network namespaces joined by a bridge, so every call
# between a service and the infrastructure (and the client's calls to the intake) crosses a real network interface.
# Needs root and iproute2; docs/deployment.md#several-hosts-on-one-machine has the layout.
#
#   scripts/multihost.sh up [--env FILE]   start everything afresh (ends a previous or crashed run first); FILE holds
#                                          extra KEY=VALUE environment lines given to every BatchAspire service
#   scripts/multihost.sh down              stop every process, remove the namespaces, veths, /etc/netns entries, data
#   scripts/multihost.sh status            each host's processes, the Redis primary, the RabbitMQ cluster
#   scripts/multihost.sh env               the intake URLs, the API key, the provider's URL and key (KEY=VALUE lines)
#   scripts/multihost.sh exec HOST CMD...  runs CMD on HOST (e.g. `exec client curl http://10.231.0.21:5180/health`)
#   scripts/multihost.sh kill-host HOST    SIGKILL every process of a host (svc1, svc2, ...)
#   scripts/multihost.sh kill-rabbit a|b|c SIGKILL every process of one RabbitMQ node
#   scripts/multihost.sh kill-redis-primary  SIGKILL the Redis primary the Sentinels name (they promote the replica)
#   scripts/multihost.sh primary           the Redis primary's address as the first Sentinel names it
#
# Hosts (namespaces), all on 10.231.0.0/24 unless MH_SUBNET says another /24 prefix:
#   bamh-switch  the bridge; one veth per host ends here (no address, no route out: traffic stays in these namespaces)
#   bamh-infra   .10  Redis primary :6379, replica :6380, Sentinels :26379-26381; RabbitMQ nodes a/b/c :5672-5674
#                     (one cluster, quorum queues); Azurite blob :10000; the Sandbox provider :5190
#   bamh-svc1..N .21… one replica each of intake :5180, submitter :5181, poller :5182, results :5183 (MH_SERVICE_HOSTS, 2)
#   bamh-client  .100 where a client runs (`exec client ...`)
# The services are the built DLLs (artifacts/bin/BatchAspire.<Service>/$MH_CONFIGURATION, default debug: build first
# with `dotnet build BatchAspire.sln`). Logs and data: $MH_RUN_DIR (default /tmp/batchaspire-multihost).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

prefix=bamh
subnet=${MH_SUBNET:-10.231.0}
run=${MH_RUN_DIR:-/tmp/batchaspire-multihost}
configuration=${MH_CONFIGURATION:-debug}
service_hosts=${MH_SERVICE_HOSTS:-2}
infra_ip=$subnet.10
client_ip=$subnet.100
services=(intake submitter poller results)
declare -A service_port=([intake]=5180 [submitter]=5181 [poller]=5182 [results]=5183)
rabbit_nodes=(a b c)
declare -A rabbit_port=([a]=5672 [b]=5673 [c]=5674)
declare -A rabbit_dist=([a]=25672 [b]=25673 [c]=25674)
redis_service=batchaspire

die() { echo "multihost: $*" >&2; exit 1; }
say() { echo "multihost: $*"; }
ns() { echo "$prefix-$1"; }
host_ip() { case $1 in infra) echo "$infra_ip" ;; client) echo "$client_ip" ;; svc*) echo "$subnet.$((20 + ${1#svc}))" ;; *) die "no host $1" ;; esac; }
hosts() { echo infra; for ((i = 1; i <= service_hosts; i++)); do echo "svc$i"; done; echo client; }
in_ns() { local host=$1; shift; ip netns exec "$(ns "$host")" "$@"; }

# Waits (bounded) until CMD succeeds; CMD runs in a subshell so its failure only means "not yet".
# WHAT names a process started by `start` (or something else, then only the time bounds the wait): one that has died
# fails the wait at once, with the end of its log.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until ("$@") >/dev/null 2>&1; do
    if [[ -f $run/pids/$what ]] && ! kill -0 "$(cat "$run/pids/$what")" 2>/dev/null; then
      tail -n 20 "$run/logs/$what.log" >&2
      die "$what exited while starting (log: $run/logs/$what.log)"
    fi
    ((SECONDS < deadline)) || die "$what did not come up within ${seconds}s (logs: $run/logs)"
    sleep 0.5
  done
}
tcp_open() { in_ns "$1" bash -c "exec 3<>/dev/tcp/$2/$3"; }

# Starts a process in its own session (so its process group is its pid) on a host; the pid goes to $run/pids/NAME.
start() {
  local host=$1 name=$2; shift 2
  setsid ip netns exec "$(ns "$host")" "$@" >"$run/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$run/pids/$name"
}

kill_group() {
  local file="$run/pids/$1"
  [[ -f $file ]] || die "no process $1"
  kill -9 -- "-$(cat "$file")" 2>/dev/null || true
}

cmd_down() {
  local n
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do
    # Every process that has the namespace: ours (and anything started in it with `exec`).
    local pids
    pids=$(ip netns pids "$n" 2>/dev/null || true)
    [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
  done
  sleep 0.3
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do
    # Deleting a namespace removes its end of each veth, which removes the pair.
    ip netns delete "$n"
  done
  rm -rf /etc/netns/"$prefix"-* "$run"
  rmdir /etc/netns 2>/dev/null || true
}

network() {
  ip netns add "$(ns switch)"
  ip -n "$(ns switch)" link add br0 type bridge
  ip -n "$(ns switch)" link set br0 up
  ip -n "$(ns switch)" link set lo up
  local host n
  for host in $(hosts); do
    n=$(ns "$host")
    ip netns add "$n"
    ip -n "$n" link set lo up
    # Made inside the switch namespace and its peer moved straight into the host: the root namespace never sees either end.
    ip -n "$(ns switch)" link add "v-$host" type veth peer name eth0 netns "$n"
    ip -n "$(ns switch)" link set "v-$host" master br0 up
    ip -n "$n" addr add "$(host_ip "$host")/24" dev eth0
    ip -n "$n" link set eth0 up
    # `ip netns exec` mounts this over /etc/hosts: every host knows the others by name.
    mkdir -p "/etc/netns/$n"
    {
      echo "127.0.0.1 localhost"
      local other
      for other in $(hosts); do echo "$(host_ip "$other") $other"; done
    } > "/etc/netns/$n/hosts"
  done
}

redis() {
  local name port replica_of=() dir
  for name in primary replica; do
    port=$([[ $name == primary ]] && echo 6379 || echo 6380)
    dir="$run/data/redis-$name"; mkdir -p "$dir"
    [[ $name == replica ]] && replica_of=(--replicaof "$infra_ip" 6379)
    start infra "redis-$name" redis-server --port "$port" --bind 0.0.0.0 --protected-mode no --dir "$dir" \
      --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save "" "${replica_of[@]}"
    wait_for "redis-$name" 30 in_ns infra redis-cli -p "$port" ping
  done
  local i
  for i in 1 2 3; do
    dir="$run/data/sentinel-$i"; mkdir -p "$dir"
    cat > "$dir/sentinel.conf" <<EOF
port $((26378 + i))
bind 0.0.0.0
protected-mode no
dir $dir
sentinel monitor $redis_service $infra_ip 6379 2
sentinel down-after-milliseconds $redis_service 2000
sentinel failover-timeout $redis_service 10000
sentinel parallel-syncs $redis_service 1
EOF
    start infra "sentinel-$i" redis-server "$dir/sentinel.conf" --sentinel
  done
  for i in 1 2 3; do wait_for "sentinel-$i" 30 in_ns infra redis-cli -p $((26378 + i)) ping; done
}

rabbitmq() {
  local dir="$run/data/rabbitmq" node
  mkdir -p "$dir/home"
  # One cookie for the cluster, readable by its owner only (Erlang refuses anything else).
  head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/home/.erlang.cookie"
  chmod 400 "$dir/home/.erlang.cookie"
  {
    echo "cluster_formation.peer_discovery_backend = classic_config"
    local i
    for i in "${!rabbit_nodes[@]}"; do echo "cluster_formation.classic_config.nodes.$((i + 1)) = rabbit-${rabbit_nodes[$i]}@localhost"; done
    # guest is refused off loopback; the services come from other hosts, so the cluster gets a user of this run.
    echo "default_user = batchaspire"
    echo "default_pass = $rabbit_password"
    echo "listeners.tcp.default = 0.0.0.0:5672"
  } > "$dir/rabbitmq.conf.template"
  echo "[]." > "$dir/enabled_plugins"
  : > "$dir/rabbitmq-env.conf"
  start infra epmd epmd -port 4369 -address 127.0.0.1
  wait_for epmd 20 tcp_open infra 127.0.0.1 4369
  for node in "${rabbit_nodes[@]}"; do
    mkdir -p "$dir/$node"
    sed "s/0.0.0.0:5672/0.0.0.0:${rabbit_port[$node]}/" "$dir/rabbitmq.conf.template" > "$dir/$node/rabbitmq.conf"
    start infra "rabbit-$node" env HOME="$dir/home" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_NODENAME="rabbit-$node@localhost" \
      RABBITMQ_NODE_PORT="${rabbit_port[$node]}" RABBITMQ_DIST_PORT="${rabbit_dist[$node]}" \
      ERL_EPMD_PORT=4369 ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_CONFIG_FILE="$dir/$node/rabbitmq" \
      RABBITMQ_MNESIA_BASE="$dir/$node/mnesia" RABBITMQ_LOG_BASE="$dir/$node/log" RABBITMQ_LOGS=- \
      /usr/lib/rabbitmq/bin/rabbitmq-server
    # The first node forms the cluster; the others start once it answers, so they join it.
    [[ $node == a ]] && wait_for "rabbit-a" 120 tcp_open infra "$infra_ip" "${rabbit_port[a]}"
  done
  for node in b c; do wait_for "rabbit-$node" 120 tcp_open infra "$infra_ip" "${rabbit_port[$node]}"; done
  wait_for "a cluster of three RabbitMQ nodes" 60 rabbit_cluster_full
}

rabbitmqctl_infra() {
  in_ns infra env HOME="$run/data/rabbitmq/home" ERL_EPMD_PORT=4369 /usr/lib/rabbitmq/bin/rabbitmqctl -n rabbit-a@localhost "$@"
}

rabbit_cluster_full() {
  [[ $(rabbitmqctl_infra cluster_status --formatter json 2>/dev/null | grep -o '"running_nodes":\[[^]]*\]' | grep -o '@localhost' | wc -l) -eq 3 ]]
}

azurite_and_sandbox() {
  local azurite="$repo/tools/azurite/node_modules/.bin/azurite-blob"
  [[ -x $azurite ]] || die "Azurite is not installed: run scripts/prerequisites.sh --azurite"
  mkdir -p "$run/data/azurite" "$run/data/sandbox"
  start infra azurite "$azurite" --blobHost 0.0.0.0 --blobPort 10000 --location "$run/data/azurite" --silent \
    --skipApiVersionCheck --loose --disableTelemetry
  start infra sandbox env ASPNETCORE_URLS="http://0.0.0.0:5190" ASPNETCORE_ENVIRONMENT=Production \
    Sandbox__DataDirectory="$run/data/sandbox" Sandbox__ApiKey="$provider_key" dotnet "$(dll Sandbox)"
}

dll() {
  local path="$repo/artifacts/bin/BatchAspire.$1/$configuration/BatchAspire.$1.dll"
  [[ -f $path ]] || die "$path is missing: build first (dotnet build BatchAspire.sln)"
  echo "$path"
}

# The settings docs/deployment.md lists for every service, as the AppHost gives them in HA mode, with this network's addresses.
service_environment() {
  local sentinels="$infra_ip:26379,$infra_ip:26380,$infra_ip:26381,serviceName=$redis_service" node uris=()
  for node in "${rabbit_nodes[@]}"; do uris+=("amqp://batchaspire:$rabbit_password@$infra_ip:${rabbit_port[$node]}"); done
  local IFS=,
  cat <<EOF
ASPNETCORE_ENVIRONMENT=Production
ConnectionStrings__cache=$sentinels
ConnectionStrings__messaging=${uris[*]}
Blobs__Provider=azure
ConnectionStrings__blobs=$(blob_connection)
Provider__BaseUrl=http://$infra_ip:5190/v1
Provider__ApiKey=$provider_key
Intake__ApiKeys__0__Tenant=multihost
Intake__ApiKeys__0__Sha256=$(printf '%s' "$api_key" | sha256sum | cut -d' ' -f1)
EOF
}

blob_connection() {
  # Azurite's published development account (the key is public, the only one it accepts by default).
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://$infra_ip:10000/devstoreaccount1;"
}

service_hosts_up() {
  local extra=$1 host service
  { service_environment; [[ -n $extra ]] && grep -v '^\s*\(#\|$\)' "$extra"; } > "$run/service.env"
  local environment=()
  mapfile -t environment < "$run/service.env"
  for ((i = 1; i <= service_hosts; i++)); do
    host=svc$i
    for service in "${services[@]}"; do
      local section=${service^}
      start "$host" "$host-$service" env "${environment[@]}" ASPNETCORE_URLS="http://0.0.0.0:${service_port[$service]}" \
        "${section}__Replicas=$service_hosts" dotnet "$(dll "$section")"
    done
  done
  wait_for azurite 60 tcp_open infra "$infra_ip" 10000
  wait_for sandbox 120 in_ns client curl -fsS -o /dev/null "http://$infra_ip:5190/health"
  for ((i = 1; i <= service_hosts; i++)); do
    for service in "${services[@]}"; do
      wait_for "svc$i-$service" 180 in_ns client curl -fsS -o /dev/null "http://$(host_ip "svc$i"):${service_port[$service]}/health"
    done
  done
}

cmd_up() {
  local extra=""
  while (($#)); do
    case $1 in
      --env) extra=$(realpath "$2"); shift 2 ;;
      *) die "unknown option $1 (expected --env FILE)" ;;
    esac
  done
  [[ $(id -u) -eq 0 ]] || die "needs root (ip netns)"
  command -v ip >/dev/null || die "needs iproute2 (apt-get install iproute2)"
  # Fail on a missing build before anything is started.
  for s in Sandbox Intake Submitter Poller Results; do dll "$s" >/dev/null; done
  cmd_down
  mkdir -p "$run/pids" "$run/logs" "$run/data"
  api_key=${MH_API_KEY:-ba-mh-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  provider_key=${MH_PROVIDER_KEY:-sk-mh-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  rabbit_password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'api_key=%s\nprovider_key=%s\nrabbit_password=%s\n' "$api_key" "$provider_key" "$rabbit_password" > "$run/secrets"
  chmod 600 "$run/secrets"
  local started=$SECONDS
  network
  redis
  # RabbitMQ takes longest to start: the Sandbox and Azurite start meanwhile (each waited for before the services need it).
  azurite_and_sandbox
  rabbitmq
  service_hosts_up "$extra"
  say "up in $((SECONDS - started))s"
  cmd_env
}

load_secrets() {
  [[ -f $run/secrets ]] || die "not up ($run/secrets missing)"
  # shellcheck disable=SC1091
  source "$run/secrets"
}

cmd_env() {
  load_secrets
  local urls=() i
  for ((i = 1; i <= service_hosts; i++)); do urls+=("http://$(host_ip "svc$i"):5180/v1"); done
  (IFS=,; echo "MH_INTAKE_URLS=${urls[*]}")
  echo "MH_API_KEY=$api_key"
  echo "MH_PROVIDER_URL=http://$infra_ip:5190"
  echo "MH_PROVIDER_KEY=$provider_key"
  echo "MH_CLIENT_NAMESPACE=$(ns client)"
  echo "MH_SENTINELS=$infra_ip:26379,$infra_ip:26380,$infra_ip:26381"
  echo "MH_BLOB_ADDRESS=$infra_ip:10000"
}

cmd_primary() {
  in_ns infra redis-cli -p 26379 sentinel get-master-addr-by-name "$redis_service" | paste -sd:
}

cmd_status() {
  load_secrets
  local f name
  for f in "$run"/pids/*; do
    name=$(basename "$f")
    if kill -0 "$(cat "$f")" 2>/dev/null; then echo "running  $name"; else echo "dead     $name"; fi
  done
  echo "redis primary: $(cmd_primary 2>/dev/null || echo unknown)"
  echo "rabbitmq running nodes: $(rabbitmqctl_infra cluster_status --formatter json 2>/dev/null | grep -o '"running_nodes":\[[^]]*\]' || echo unknown)"
}

# The whole command runs from one function read before it starts, so editing this file meanwhile cannot change a run.
main() {
  case ${1:-} in
    up) shift; cmd_up "$@" ;;
    down) cmd_down; say "down" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    primary) cmd_primary ;;
    exec) shift; host=${1:?exec HOST CMD...}; shift; in_ns "$host" "$@" ;;
    kill-host)
      host=${2:?kill-host HOST}
      [[ $host == svc* ]] || die "kill-host takes a service host (svc1..svc$service_hosts)"
      pids=$(ip netns pids "$(ns "$host")")
      [[ -n $pids ]] && kill -9 $pids
      say "killed $(echo $pids | wc -w) processes on $host" ;;
    kill-rabbit) kill_group "rabbit-${2:?kill-rabbit a|b|c}"; say "killed rabbit-$2" ;;
    kill-redis-primary)
      primary=$(cmd_primary)
      case ${primary##*:} in 6379) kill_group redis-primary ;; 6380) kill_group redis-replica ;; *) die "no primary ($primary)" ;; esac
      say "killed the Redis primary $primary" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
}

main "$@"; exit $?
