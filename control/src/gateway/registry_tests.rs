//! The registry on its own: connections replaced, commands queued and answered or dropped.

use super::*;

/// A connection to nowhere: enough for the registry, which only keeps and clones it.
fn mux() -> Mux {
    let silent = futures_util::stream::pending::<Result<Vec<u8>, std::convert::Infallible>>();
    Mux::new(futures_util::sink::drain(), silent, proto::wire::Side::Base).0
}

#[tokio::test]
async fn a_reconnect_replaces_and_closes_the_old_connection() {
    let r = Registry::default();
    let first = r.register("ins_1", "cls_1", mux());
    let second = r.register("ins_1", "cls_1", mux());
    assert!(*first.kill.borrow(), "old connection told to close");
    r.unregister(&first);
    assert!(
        r.is_online("ins_1"),
        "the stale unregister did not remove the new one"
    );
    r.unregister(&second);
    assert!(!r.is_online("ins_1"));
}

#[tokio::test]
async fn every_change_wakes_the_clusters_subscribers_only() {
    let r = Registry::default();
    let mut rx = r.subscribe("cls_1");
    let mut other = r.subscribe("cls_2");
    let reg = r.register("ins_1", "cls_1", mux());
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    r.unregister(&reg);
    assert!(rx.has_changed().unwrap());
    assert!(
        !other.has_changed().unwrap(),
        "another cluster's agent is not seen"
    );
    other.mark_unchanged();
}

/// Stands in for a session task: answers every command with `outcome`, or drops the reply
/// if it is `None`.
fn fake_session(mut reg: Registration, outcome: Option<Outcome>) {
    tokio::spawn(async move {
        while let Some(p) = reg.commands.recv().await {
            if let Some(o) = &outcome {
                let _ = p.reply.send(o.clone());
            }
        }
    });
}

/// Sends `ins_1` a ping, given five seconds.
async fn ping(r: &Registry) -> Result<Outcome, CommandError> {
    r.send_command("ins_1", Command::Ping, Duration::from_secs(5))
        .await
}

#[tokio::test]
async fn commands_reach_the_live_connection_and_return_its_outcome() {
    let r = Registry::default();
    fake_session(r.register("ins_1", "cls_1", mux()), Some(Outcome::Ok));
    let got = ping(&r).await;
    assert_eq!(got, Ok(Outcome::Ok));
}

#[tokio::test]
async fn done_turns_a_refusal_into_a_domain_error_by_its_kind() {
    let r = Registry::default();
    let gone = Outcome::err(
        CommandErrorKind::NotFound,
        "release dep_1 is no longer kept",
    );
    fake_session(r.register("ins_1", "cls_1", mux()), Some(gone));
    let got = done(ping(&r).await);
    assert!(
        matches!(&got, Err(DomainError::Conflict(m)) if m == "release dep_1 is no longer kept"),
        "{got:?}"
    );
    let invalid = refused(CommandErrorKind::Invalid, "unknown command".into());
    assert!(
        matches!(invalid, DomainError::Invalid { .. }),
        "{invalid:?}"
    );
    let offline = done(
        r.send_command("ins_2", Command::Ping, Duration::from_secs(5))
            .await,
    );
    assert!(
        matches!(&offline, Err(DomainError::Conflict(m)) if m.contains("offline")),
        "{offline:?}"
    );
}

#[tokio::test]
async fn a_command_for_an_instance_without_a_connection_is_offline() {
    let r = Registry::default();
    let got = ping(&r).await;
    assert_eq!(got, Err(CommandError::Offline));
}

#[tokio::test]
async fn a_connection_that_drops_the_command_loses_it() {
    let r = Registry::default();
    fake_session(r.register("ins_1", "cls_1", mux()), None);
    let got = ping(&r).await;
    assert_eq!(got, Err(CommandError::ConnectionLost));
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_command_times_out() {
    let r = Registry::default();
    // Registered, but nothing ever reads the queue.
    let _reg = r.register("ins_1", "cls_1", mux());
    let got = r
        .send_command("ins_1", Command::Ping, Duration::from_secs(3))
        .await;
    assert_eq!(got, Err(CommandError::Timeout(Duration::from_secs(3))));
}

#[tokio::test]
async fn disconnect_signals_the_connection() {
    let r = Registry::default();
    let reg = r.register("ins_1", "cls_1", mux());
    assert!(r.disconnect("ins_1"));
    assert!(*reg.kill.borrow());
    assert!(!r.disconnect("ins_1"));
    assert_eq!(r.online_count(), 0);
}
