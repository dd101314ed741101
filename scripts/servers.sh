# The benchmark servers by name, for scripts/bench and scripts/callgrind-fanout (sourced;
# $BIN is the directory of the release binaries).

# A server name is floor or floor-actix, or peer-<framework> or ours-<framework> with an
# optional suffix saying how axum or warp serve connections: -framework
# (axum::serve/warp::serve, the peers' default), -toolkit (sse_tower::serve, ours' default),
# -auto (hyper-util's auto connection alone) or -http1 (hyper's HTTP/1 connection alone), and
# then @TAG for bench_ours@TAG or bench_floor@TAG (an earlier build).
server_cmd() {
    local name="$1" extra="" tag=""
    case "$name" in
        *@*) tag="@${name#*@}"; name="${name%@*}" ;;
    esac
    case "$name" in
        *-http1) name="${name%-http1}"; extra="--serve http1" ;;
        *-toolkit) name="${name%-toolkit}"; extra="--serve toolkit" ;;
        *-framework) name="${name%-framework}"; extra="--serve framework" ;;
        *-auto) name="${name%-auto}"; extra="--serve auto" ;;
    esac
    case "$name" in
        peer-axum) echo "$BIN/bench_peer_axum $extra" ;;
        peer-actix) echo "$BIN/bench_peer_actix $extra" ;;
        peer-warp) echo "$BIN/bench_peer_warp $extra" ;;
        floor) echo "$BIN/bench_floor$tag" ;;
        floor-actix) echo "$BIN/bench_floor$tag --framework actix" ;;
        ours-*) echo "$BIN/bench_ours$tag --framework ${name#ours-} $extra" ;;
    esac
}
