//! Keeps torrentql's resident memory close to what it uses.
//!
//! torrentql builds large values and drops them at once: a full
//! `sync/maindata` answer at 10,000 torrents is about 10 MB, a `torrents`
//! list 2.3 MB of JSON (and several times that in GraphQL values when it
//! is not written as JSON directly). glibc's allocator keeps what is freed
//! inside its arenas, and after each large free it raises the size from
//! which it maps buffers on their own, so the next large ones stay in the
//! arenas too. At 10,000 torrents that left the process at 55 MB after a
//! few lists, for 28 MB in use.
//!
//! [`tune_allocator`] fixes that size, so large buffers go back to the
//! kernel when dropped; [`release_periodically`] hands back the free
//! pages left inside the arenas every [`RELEASE_INTERVAL`] (about a
//! millisecond each time at 10,000 torrents). Both do nothing where the
//! allocator is not glibc's.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How often freed memory is handed back to the kernel.
pub const RELEASE_INTERVAL: Duration = Duration::from_secs(10);

/// Allocations from this size up (the 10 MB `sync/maindata` answer, a
/// 2.3 MB list response) are mapped on their own and unmapped when freed.
/// Fixed, where glibc would raise it after every such free.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// Sets the allocator up; call before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a parameter of the allocator, and runs
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Hands the free pages inside the allocator's arenas back to the kernel.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes the allocator's own locks; it is safe to
    // call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs `release_freed_memory` every [`RELEASE_INTERVAL`] until
/// `shutdown`.
pub async fn release_periodically(shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(RELEASE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let started = std::time::Instant::now();
        tokio::task::spawn_blocking(release_freed_memory).await.ok();
        tracing::trace!(took = ?started.elapsed(), "released freed memory");
    }
}
