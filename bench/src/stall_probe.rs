//! The machine's own scheduling delay, measured beside a latency phase: a thread that sleeps
//! 1 ms at a time and records how late each wake-up is. It does nothing else, so its lateness is
//! what the host and the kernel add to any thread of the run (a vCPU descheduled by the host, a
//! busy core), the floor under the fan-out's publish-to-receive tail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::util::percentile;

/// How long the probe sleeps between wake-ups.
const TICK: Duration = Duration::from_millis(1);
/// A wake-up later than this counts towards [`Stalls::stalled_ms`].
const STALL: Duration = Duration::from_millis(2);

/// A running probe; [`StallProbe::stop`] ends it and returns what it saw.
pub struct StallProbe {
    running: Arc<AtomicBool>,
    thread: JoinHandle<Vec<u64>>,
}

/// Wake-up lateness beyond the 1 ms sleep, over the probe's run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stalls {
    pub wakeups: usize,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Time lost in wake-ups more than 2 ms (`STALL`) late, summed.
    pub stalled_ms: f64,
}

impl StallProbe {
    pub fn start() -> Result<Self> {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let thread = std::thread::Builder::new()
            .name("bench-stall-probe".into())
            .spawn(move || {
                let mut late = Vec::with_capacity(1 << 15);
                while flag.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    std::thread::sleep(TICK);
                    let over = t.elapsed().saturating_sub(TICK);
                    late.push(u64::try_from(over.as_nanos()).unwrap_or(u64::MAX));
                }
                late
            })?;
        Ok(Self { running, thread })
    }

    pub fn stop(self) -> Stalls {
        self.running.store(false, Ordering::Relaxed);
        let mut late = self.thread.join().unwrap_or_default();
        late.sort_unstable();
        let stall = u64::try_from(STALL.as_nanos()).unwrap_or(u64::MAX);
        let stalled: u64 = late.iter().filter(|&&ns| ns > stall).sum();
        Stalls {
            wakeups: late.len(),
            p99_ms: percentile(&late, 99.0) as f64 / 1e6,
            max_ms: late.last().copied().unwrap_or(0) as f64 / 1e6,
            stalled_ms: stalled as f64 / 1e6,
        }
    }
}
