//! hyper's timer in the ingress, for its safeguard timeouts (the 30-second header read limit
//! that stops slowloris clients). hyper re-arms that timeout for every request, and with tokio's
//! timer re-arming one often wakes the worker's event loop through its eventfd (one `write`
//! syscall and one extra `epoll_wait` for every few requests, measured by `.ci/bench-ingress`).
//! A safeguard does not need millisecond precision, so here a sleep is a deadline in a per-worker
//! list that one task checks once a [`TICK`]: re-arming is a store, and a timeout fires at most
//! a tick late.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use tokio::sync::Notify;

/// How often deadlines are checked: how late a timeout may fire.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// One worker's timer; clones share its list. Make it inside the worker's runtime: it spawns
/// the task that checks the deadlines.
#[derive(Clone)]
pub(crate) struct CoarseTimer {
    list: Arc<List>,
}

#[derive(Default)]
struct List {
    sleeps: Mutex<Vec<Weak<Mutex<Entry>>>>,
    /// Wakes the checking task when the list stops being empty.
    armed: Notify,
}

struct Entry {
    deadline: Instant,
    fired: bool,
    /// Whether the list holds this entry (it leaves the list when it fires).
    listed: bool,
    waker: Option<Waker>,
}

impl CoarseTimer {
    pub(crate) fn new() -> Self {
        let list = Arc::new(List::default());
        tokio::spawn(check(list.clone()));
        Self { list }
    }

    fn arm(&self, entry: &Arc<Mutex<Entry>>) {
        let mut sleeps = self
            .list
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if sleeps.is_empty() {
            self.list.armed.notify_one();
        }
        sleeps.push(Arc::downgrade(entry));
    }
}

/// Fires the deadlines that passed, once a tick, while there are any. It runs as long as the
/// worker's runtime does.
async fn check(list: Arc<List>) {
    loop {
        let armed = list.armed.notified();
        if list
            .sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
        {
            armed.await;
            continue;
        }
        tokio::time::sleep(TICK).await;
        let now = now();
        let mut due = Vec::new();
        list.sleeps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|weak| {
                let Some(entry) = weak.upgrade() else {
                    return false;
                };
                let mut entry = entry.lock().unwrap_or_else(PoisonError::into_inner);
                if entry.deadline > now {
                    return true;
                }
                entry.fired = true;
                entry.listed = false;
                due.extend(entry.waker.take());
                false
            });
        // Woken outside the list's lock.
        due.into_iter().for_each(Waker::wake);
    }
}

/// tokio's clock (which tests can pause) as an `Instant`, as hyper's deadlines are given.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A sleep of a [`CoarseTimer`].
pub(crate) struct CoarseSleep {
    entry: Arc<Mutex<Entry>>,
    timer: CoarseTimer,
}

impl CoarseSleep {
    fn reset(&mut self, deadline: Instant) {
        let mut entry = self.entry.lock().unwrap_or_else(PoisonError::into_inner);
        entry.deadline = deadline;
        entry.fired = false;
        if !entry.listed {
            entry.listed = true;
            drop(entry);
            self.timer.arm(&self.entry);
        }
    }
}

impl Future for CoarseSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut entry = self.entry.lock().unwrap_or_else(PoisonError::into_inner);
        if entry.fired {
            return Poll::Ready(());
        }
        if !entry
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            entry.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Sleep for CoarseSleep {}

impl Timer for CoarseTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(now() + duration)
    }

    fn now(&self) -> Instant {
        now()
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let entry = Arc::new(Mutex::new(Entry {
            deadline,
            fired: false,
            listed: true,
            waker: None,
        }));
        self.arm(&entry);
        Box::pin(CoarseSleep {
            entry,
            timer: self.clone(),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<CoarseSleep>() {
            // `CoarseSleep` is `Unpin`: nothing in it is pinned.
            Some(coarse) => coarse.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_sleep_fires_within_a_tick_of_its_deadline_and_a_reset_moves_it() {
        let timer = CoarseTimer::new();
        let start = tokio::time::Instant::now();
        let mut sleep = timer.sleep(Duration::from_secs(3));
        sleep.as_mut().await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(3) && waited <= Duration::from_secs(3) + TICK,
            "{waited:?}"
        );

        // A fired sleep that is reset waits again, for the new deadline.
        let start = tokio::time::Instant::now();
        timer.reset(&mut sleep, now() + Duration::from_secs(5));
        let early = tokio::time::timeout(Duration::from_secs(4), sleep.as_mut()).await;
        assert!(early.is_err(), "fired before its new deadline");
        sleep.as_mut().await;
        let waited = start.elapsed();
        assert!(waited <= Duration::from_secs(5) + TICK, "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn fired_and_dropped_sleeps_leave_the_list() {
        let timer = CoarseTimer::new();
        drop(timer.sleep(Duration::from_secs(60)));
        let mut kept = timer.sleep(Duration::from_secs(2));
        tokio::time::sleep(3 * TICK).await;
        let fired = tokio::time::timeout(Duration::ZERO, kept.as_mut()).await;
        assert!(fired.is_ok(), "the 2-second sleep fired");
        let listed = timer.list.sleeps.lock().unwrap().len();
        assert_eq!(listed, 0, "the dropped sleep and the fired one are gone");
    }
}
