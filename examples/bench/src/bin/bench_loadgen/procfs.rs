//! What `/proc` says about a process and the kernel's sockets (Linux only; 0 elsewhere).

pub(crate) use sse_bench::rss_bytes;

/// The kernel's TCP memory in bytes (`/proc/net/sockstat` "mem", in pages).
pub(crate) fn tcp_mem_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            let at = parts.iter().position(|&p| p == "mem")?;
            parts.get(at + 1)?.parse::<u64>().ok()
        })
        .map_or(0, |pages| pages * 4096)
}

/// Bytes in the kernel's per-socket slab caches (`TCP`, `sock_inode_cache`) from
/// `/proc/slabinfo` (root only; 0 otherwise).
pub(crate) fn socket_slab_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/slabinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let parts: Vec<&str> = l.split_whitespace().collect();
            if !matches!(parts.first(), Some(&"TCP" | &"sock_inode_cache")) {
                return None;
            }
            let active: u64 = parts.get(1)?.parse().ok()?;
            let size: u64 = parts.get(3)?.parse().ok()?;
            Some(active * size)
        })
        .sum()
}
