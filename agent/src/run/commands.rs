//! Base's commands by id, so a repeated id is answered without doing the work twice (the promise
//! in `proto::wire::msg`): the outcome of a command that ended is remembered, and one that still
//! runs is answered when it ends. Kept across reconnects, since a repeat would come on a new
//! connection; bounded, since a long-running agent is given commands forever.

use std::collections::{HashMap, VecDeque};

use proto::wire::Outcome;
use tokio::sync::watch;

/// How many command ids are remembered. Base sends a repeat soon after a reconnect, if ever, so
/// this covers hours of an agent's busiest traffic at the cost of a few hundred KiB at most.
pub const REMEMBERED_COMMANDS: usize = 1024;

/// What to do with a command that just arrived.
#[derive(Debug)]
pub enum Admitted {
    /// A new id: do the work, then [`watch::Sender::send`] the outcome into this.
    New(watch::Sender<Option<Outcome>>),
    /// An id seen before: its outcome is (or will be) here.
    Repeat(watch::Receiver<Option<Outcome>>),
}

/// The last [`REMEMBERED_COMMANDS`] command ids and their outcomes.
#[derive(Debug, Default)]
pub struct CommandLog {
    outcomes: HashMap<u64, watch::Receiver<Option<Outcome>>>,
    order: VecDeque<u64>,
}

impl CommandLog {
    pub fn admit(&mut self, id: u64) -> Admitted {
        if let Some(outcome) = self.outcomes.get(&id) {
            return Admitted::Repeat(outcome.clone());
        }
        let (done, outcome) = watch::channel(None);
        self.outcomes.insert(id, outcome);
        self.order.push_back(id);
        if self.order.len() > REMEMBERED_COMMANDS
            && let Some(oldest) = self.order.pop_front()
        {
            self.outcomes.remove(&oldest);
        }
        Admitted::New(done)
    }
}

/// The outcome of a command admitted before; `None` if it never finished (its task was dropped
/// with the connection it came on before it ended).
pub async fn outcome_of(mut repeat: watch::Receiver<Option<Outcome>>) -> Option<Outcome> {
    let outcome = repeat.wait_for(Option::is_some).await.ok()?;
    outcome.clone()
}

#[cfg(test)]
mod tests {
    use proto::wire::CommandErrorKind;

    use super::*;

    fn new(log: &mut CommandLog, id: u64) -> watch::Sender<Option<Outcome>> {
        match log.admit(id) {
            Admitted::New(done) => done,
            Admitted::Repeat(_) => panic!("{id} is new"),
        }
    }

    fn repeat(log: &mut CommandLog, id: u64) -> watch::Receiver<Option<Outcome>> {
        match log.admit(id) {
            Admitted::Repeat(first) => first,
            Admitted::New(_) => panic!("{id} was seen before"),
        }
    }

    #[tokio::test]
    async fn a_repeated_id_gets_the_first_outcome_without_running_again() {
        let mut log = CommandLog::default();
        let done = new(&mut log, 7);
        let while_running = repeat(&mut log, 7);
        let failed = Outcome::err(CommandErrorKind::Conflict, "busy");
        done.send_replace(Some(failed.clone()));
        assert_eq!(outcome_of(while_running).await, Some(failed.clone()));
        let after_it_ended = repeat(&mut log, 7);
        assert_eq!(outcome_of(after_it_ended).await, Some(failed));
        new(&mut log, 8);
    }

    #[tokio::test]
    async fn a_command_that_never_finished_has_no_outcome() {
        let mut log = CommandLog::default();
        drop(new(&mut log, 1));
        assert_eq!(outcome_of(repeat(&mut log, 1)).await, None);
    }

    #[test]
    fn only_the_latest_ids_are_remembered() {
        let mut log = CommandLog::default();
        let last = REMEMBERED_COMMANDS as u64;
        for id in 0..=last {
            new(&mut log, id);
        }
        repeat(&mut log, last);
        repeat(&mut log, 1);
        new(&mut log, 0);
    }
}
