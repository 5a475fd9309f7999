//! Fair scheduling of renders over the daemon's slots: one queue per app, served round
//! robin, and no app holding more than its share of the slots. An app whose modules loop
//! until their deadline then delays only its own renders: every other app still finds a
//! free slot and its turn comes after at most one render of each app ahead of it.
//!
//! A waiter that goes away (its client disconnected) simply drops its receiver; the slot
//! it would have had goes to the next waiter.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// The daemon's render slots.
pub(super) struct Scheduler {
    /// Slots an app may hold at once.
    per_app: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    free: usize,
    /// Slots held, by app.
    running: HashMap<String, usize>,
    /// Waiters, by app.
    queues: HashMap<String, VecDeque<oneshot::Sender<Slot>>>,
    /// Apps with waiters, in the order their turn comes.
    turns: VecDeque<String>,
}

/// A held slot; dropping it frees the slot for the next waiter.
pub(super) struct Slot {
    /// `None` once disarmed: a slot that was never handed out frees nothing.
    scheduler: Option<Arc<Scheduler>>,
    app: String,
}

impl Scheduler {
    /// `slots` renders at once, at most `per_app` of them for one app (both at least 1).
    pub(super) fn new(slots: usize, per_app: usize) -> Arc<Self> {
        Arc::new(Self {
            per_app: per_app.max(1),
            state: Mutex::new(State {
                free: slots.max(1),
                ..State::default()
            }),
        })
    }

    /// Waits for a slot for `app`. Dropping the returned future gives up the place in the
    /// queue.
    pub(super) async fn acquire(self: &Arc<Self>, app: &str) -> Slot {
        let (sender, receiver) = oneshot::channel();
        {
            let mut state = self.lock();
            if !state.queues.contains_key(app) {
                state.turns.push_back(app.to_owned());
            }
            state
                .queues
                .entry(app.to_owned())
                .or_default()
                .push_back(sender);
            self.dispatch(&mut state);
        }
        receiver
            .await
            .expect("the scheduler never drops a waiter's sender unanswered")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("scheduler state poisoned")
    }

    /// Hands free slots to waiters: the first app in turn order that is below its share
    /// gets one, then goes to the back of the line.
    fn dispatch(self: &Arc<Self>, state: &mut State) {
        while state.free > 0 {
            let Some(position) = state
                .turns
                .iter()
                .position(|app| state.running.get(app).copied().unwrap_or(0) < self.per_app)
            else {
                return;
            };
            let app = state.turns.remove(position).expect("position is in range");
            let queue = state
                .queues
                .get_mut(&app)
                .expect("apps in turn have a queue");
            let sender = queue.pop_front().expect("queues in turn are not empty");
            if queue.is_empty() {
                state.queues.remove(&app);
            } else {
                state.turns.push_back(app.clone());
            }
            let slot = Slot {
                scheduler: Some(self.clone()),
                app: app.clone(),
            };
            match sender.send(slot) {
                Ok(()) => {
                    state.free -= 1;
                    *state.running.entry(app).or_default() += 1;
                }
                // The waiter is gone. Its slot was never counted as taken, and its `Drop`
                // must not take the lock held here.
                Err(mut slot) => slot.scheduler = None,
            }
        }
    }

    /// Renders running now, for tests.
    #[cfg(test)]
    fn running(&self, app: &str) -> usize {
        self.lock().running.get(app).copied().unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(scheduler) = self.scheduler.take() else {
            return;
        };
        let mut state = scheduler.lock();
        state.free += 1;
        if let Some(count) = state.running.get_mut(&self.app) {
            *count -= 1;
            if *count == 0 {
                state.running.remove(&self.app);
            }
        }
        scheduler.dispatch(&mut state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Whether `future` completes within a few milliseconds.
    async fn completes<T>(future: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::time::timeout(Duration::from_millis(20), future)
            .await
            .ok()
    }

    #[test]
    fn one_app_cannot_take_every_slot() {
        runtime().block_on(async {
            let scheduler = Scheduler::new(2, 1);
            let looping = scheduler.acquire("loops").await;
            assert!(completes(scheduler.acquire("loops")).await.is_none());
            let other = completes(scheduler.acquire("shop")).await;
            assert!(other.is_some(), "another app still gets the free slot");
            assert_eq!(scheduler.running("loops"), 1);
            drop(looping);
        });
    }

    #[test]
    fn apps_take_turns() {
        runtime().block_on(async {
            let scheduler = Scheduler::new(1, 1);
            let first = scheduler.acquire("a").await;
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut waiters = Vec::new();
            for app in ["a", "a", "a", "b", "c"] {
                let (scheduler, order) = (scheduler.clone(), order.clone());
                waiters.push(tokio::spawn(async move {
                    let slot = scheduler.acquire(app).await;
                    order.lock().unwrap().push(app);
                    drop(slot);
                }));
                tokio::task::yield_now().await;
            }
            drop(first);
            for waiter in waiters {
                waiter.await.unwrap();
            }
            // b and c do not wait behind all of a's renders.
            assert_eq!(*order.lock().unwrap(), ["a", "b", "c", "a", "a"]);
        });
    }

    #[test]
    fn a_waiter_that_gives_up_passes_its_slot_on() {
        runtime().block_on(async {
            let scheduler = Scheduler::new(1, 1);
            let held = scheduler.acquire("a").await;
            assert!(completes(scheduler.acquire("b")).await.is_none(), "gave up");
            let next = tokio::spawn({
                let scheduler = scheduler.clone();
                async move { scheduler.acquire("c").await }
            });
            tokio::task::yield_now().await;
            drop(held);
            let slot = completes(next).await.expect("c got the slot").unwrap();
            assert_eq!(scheduler.running("c"), 1);
            assert_eq!(scheduler.running("b"), 0);
            drop(slot);
            assert!(completes(scheduler.acquire("d")).await.is_some());
        });
    }
}
