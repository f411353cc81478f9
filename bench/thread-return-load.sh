#!/bin/bash
# Long-lived clients whose habits change, against `kvd serve` builds side by side: 50 clients each
# send 2,000 GETs one at a time (the network threads hand them to the main thread while the
# cores are busy), then pipeline 16 requests at a time, GETs only and then 10% SETs, measured
# once every client pipelines (bench/mixed-load.c's lonePipelines). Each server is fresh, loaded
# with 100k SETs (-P16) and left quiet 20 s. Also prints how many clients the network threads
# serve during each load. bench/ANALYSIS.md, "A client handed back goes to a thread again".
#
#   cc -O2 -o /tmp/mixed-load bench/mixed-load.c
#   bench/thread-return-load.sh <rounds> <kvd checkout>:<threads> [<kvd checkout>:<threads> ...]
#   e.g. bench/thread-return-load.sh 3 /tmp/kvd-old:2 .:2 .:1   (each checkout built: dist/)
set -u
PORT=6394
ROUNDS=$1
shift

# The load with $1 % SETs: its rate, and (after 5 s) the clients the network threads serve.
measure() {
  local out
  out=$(mktemp)
  /tmp/mixed-load $PORT 50 16 "$1" 8 100000 100 2000 > "$out" &
  local load=$!
  sleep 5
  local onThreads
  onThreads=$(redis-cli -p $PORT info clients | grep kvd_network_thread_clients | tr -d '\r')
  wait $load
  echo "$(cut -d= -f2 "$out") ($onThreads)"
  rm -f "$out"
}

for round in $(seq 1 "$ROUNDS"); do
  for config in "$@"; do
    dir=${config%%:*}
    threads=${config##*:}
    data=$(mktemp -d)
    node "$dir/dist/main/cli.js" serve --dir "$data" --port $PORT --network-threads "$threads" \
      > /dev/null 2>&1 &
    server=$!
    for _ in $(seq 1 50); do redis-cli -p $PORT ping > /dev/null 2>&1 && break; sleep 0.2; done
    redis-benchmark -p $PORT -t set -n 100000 -r 100000 -d 100 -P 16 -c 50 -q > /dev/null
    sleep 20
    gets=$(measure 0)
    mixed=$(measure 10)
    echo "round $round $dir threads=$threads GETs-P16=$gets 10%-SETs-P16=$mixed"
    kill $server
    wait $server 2> /dev/null
    rm -rf "$data"
  done
done
