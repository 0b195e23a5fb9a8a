//! The console's main loop and effect runner. Input, source events, ticks and signals become
//! messages for `update`; everything waiting is applied as one batch and drawn once, only when
//! something visible changed. Effects run here, outside `App`, and report back as messages:
//! every operation is started on the session's operations service (which holds the operator
//! lock, and keeps it while a release step is followed) and its progress comes back as messages.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use crossterm::terminal as ct;
use futures::StreamExt;
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{App, Effect, Ending, Msg};
use super::recording::writer::{self, Recorder};
use super::recording::{self, Header};
use super::render;
use super::state::Recording;
use super::terminal::TerminalGuard;
use super::text;
use super::theme::Theme;
use super::update::update;
use crate::backends::FleetSource;
use crate::domain::Ts;
use crate::domain::release::GatePolicy;
use crate::ops::access::WriteAccess;
use crate::ops::drain::{PlanKind, PlanRequest, StopFlag, StopReason};
use crate::ops::{Executor, Mutation, Operation, Operations, Progress};

/// How long the footer says what the session may not write.
const NOT_PERMITTED_SECS: i64 = 30;

/// How the console ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Quit,
    /// Work was running and was stopped: what, and how to continue it.
    Interrupted(String),
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Quit => 0,
            Outcome::Interrupted(_) => 1,
        }
    }
}

/// How long a quitting console waits for a running batch to finish.
const STOP_WAIT: Duration = Duration::from_secs(120);

/// Where the session is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Not recorded.
    Off,
    /// `--record FILE`: this file, kept whatever the session does.
    To(PathBuf),
    /// A read-write console's default: a new file in this directory, kept only if the session
    /// changed something; the oldest beyond `keep` are deleted.
    /// Together they take at most `max_bytes`: the oldest go first, and the new one stops when
    /// it would take more.
    Automatic {
        dir: PathBuf,
        keep: usize,
        max_bytes: u64,
    },
}

/// How the console runs, besides its backend.
#[derive(Debug, Clone)]
pub struct Options {
    pub policy: GatePolicy,
    pub theme: Theme,
    /// When the process started, for the first-frame time in the log.
    pub started: Instant,
    pub record: Record,
    /// The wall-screen layout, rotating every this many seconds.
    pub wall: Option<u64>,
}

/// Runs the console until the operator quits or a signal ends it.
/// A console without operations is read-only: nothing in it can mutate the fleet.
pub async fn run(
    source: Box<dyn FleetSource>,
    ops: Option<Arc<Operations>>,
    options: Options,
) -> anyhow::Result<Outcome> {
    let (w, h) = ct::size()?;
    let mut app = App::new(
        source.info(),
        ops.as_ref().map(|o| WriteAccess::of(o.executor())),
        Ts::now(),
        Rect::new(0, 0, w, h),
    );
    app.session.policy = options.policy.clone();
    if let Some(every) = options.wall {
        app.view.wall = Some(super::wall::WallState::rotating(every));
    }
    if let Some(ex) = ops.as_ref().map(|o| o.executor()) {
        app.session.id = ex.holder().session.clone();
        // Who approvals take this session for; unknown (the executor still decides) when the
        // API server does not say in time.
        app.session.identity =
            match tokio::time::timeout(std::time::Duration::from_secs(3), ex.identity()).await {
                Ok(Ok(who)) => who,
                _ => String::new(),
            };
        app.session.denied = ex.denied().to_vec();
        if !app.session.denied.is_empty() {
            app.say_for(
                text::not_permitted(&app.session.denied),
                true,
                NOT_PERMITTED_SECS,
            );
        }
    }
    // An explicit recording that cannot be written stops the console before it starts; an
    // automatic one is reported and the console goes on unrecorded.
    let header = Header::of(&app);
    let recorder = match &options.record {
        Record::Off => None,
        Record::To(path) => Some(Recorder::create(path, &header, false).map_err(|e| {
            // The path once: some errors name it already, others do not.
            let e = e.to_string();
            let shown = path.display().to_string();
            if e.contains(&shown) {
                anyhow::anyhow!("cannot record the session: {e}")
            } else {
                anyhow::anyhow!("cannot record the session into '{shown}': {e}")
            }
        })?),
        Record::Automatic {
            dir,
            keep,
            max_bytes,
        } => {
            // The older ones take at most half of what the recordings may take; the new one
            // may take the rest.
            let (pruned, others) =
                recording::writer::prune_to(dir, keep.saturating_sub(1), max_bytes / 2);
            if pruned > 0 {
                tracing::info!(pruned, dir = %dir.display(), "old recordings deleted");
            }
            match Recorder::create(&writer::automatic_file(dir, app.data.now), &header, true) {
                Ok(r) => Some(r.limited_to(max_bytes.saturating_sub(others))),
                Err(e) => {
                    tracing::warn!("not recording this session: {e}");
                    app.session.recording = Recording::Stopped;
                    app.say_for(
                        text::not_recording(&e.to_string()),
                        true,
                        NOT_PERMITTED_SECS,
                    );
                    None
                }
            }
        }
    };
    if recorder.is_some() {
        app.session.recording = Recording::On;
    }
    if let (Some(r), Some(ops)) = (&recorder, &ops) {
        ops.executor()
            .name_recording(r.path().display().to_string());
    }
    let mut guard = TerminalGuard::enter()?;
    let runner = Runner::new(ops);
    let result = event_loop(&mut guard, source, app, &options, runner, recorder).await;
    drop(guard);
    match &result {
        Ok((Outcome::Interrupted(what), _)) => {
            let _ = writeln!(std::io::stderr(), "shopctl: {what}");
        }
        Ok((_, Some(kept))) if matches!(options.record, Record::To(_)) => {
            let _ = writeln!(
                std::io::stderr(),
                "shopctl: session recorded in '{}' (replay: shopctl replay '{}')",
                kept.display(),
                kept.display()
            );
        }
        _ => {}
    }
    result.map(|(outcome, _)| outcome)
}

/// Runs effects: operations on the session's operations service, a running drain and how to
/// stop it. What they did comes back as messages; the runner never changes `App` itself.
pub struct Runner {
    ops: Option<Arc<Operations>>,
    /// The running drain or restore, and how to stop it.
    drain: Option<(Arc<StopFlag>, PlanKind, String)>,
    /// The lock kept for a followed rollout was lost, and the footer said so.
    lost_said: bool,
    /// Effects still running.
    inflight: Arc<AtomicUsize>,
    done_tx: mpsc::Sender<Msg>,
    done_rx: mpsc::Receiver<Msg>,
}

/// Counts a running effect until dropped (also when the effect panics).
struct Running(Arc<AtomicUsize>);

impl Running {
    fn start(n: &Arc<AtomicUsize>) -> Running {
        n.fetch_add(1, Ordering::SeqCst);
        Running(Arc::clone(n))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Runner {
    pub fn new(ops: Option<Arc<Operations>>) -> Runner {
        let (done_tx, done_rx) = mpsc::channel(64);
        Runner {
            ops,
            drain: None,
            lost_said: false,
            inflight: Arc::new(AtomicUsize::new(0)),
            done_tx,
            done_rx,
        }
    }

    /// The next message an effect reported.
    pub async fn recv(&mut self) -> Option<Msg> {
        self.done_rx.recv().await
    }

    fn executor(&self) -> Option<&Executor> {
        self.ops.as_deref().map(Operations::executor)
    }

    /// Says something in the footer, through `update`.
    fn notice(&self, text: impl Into<String>, bad: bool) {
        let _ = self.done_tx.try_send(Msg::Notice {
            text: text.into(),
            bad,
        });
    }

    /// Completes, in the background, the audit of steps an earlier session made without writing
    /// their outcome (killed after a push), and says so in the footer.
    fn reconcile(&self) {
        let Some(ops) = self.ops.clone() else {
            return;
        };
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            for text in ops.reconcile().await {
                tracing::warn!("{text}");
                let _ = tx.send(Msg::Notice { text, bad: true }).await;
            }
        });
    }

    /// Gives back the lock kept for a followed rollout, if any.
    fn unlock(&self) -> Option<JoinHandle<()>> {
        let ops = self.ops.clone()?;
        Some(tokio::spawn(async move { ops.unlock().await }))
    }

    /// Says once, in the footer, that the lock kept for a followed rollout was lost (it is
    /// renewed in the background; someone took it over, or it could not be renewed in time).
    fn check_kept_lock(&mut self) {
        let Some(ops) = &self.ops else {
            return;
        };
        match ops.kept_lock_lost() {
            Some(e) if !self.lost_said => {
                self.lost_said = true;
                tracing::warn!("the operator lock: {e}");
                self.notice(text::lock_lost(&e.to_string()), true);
            }
            Some(_) => {}
            None => self.lost_said = false,
        }
    }

    /// Starts one effect. Returns false for `Quit`.
    pub fn start(&mut self, effect: Effect) -> bool {
        match effect {
            Effect::Quit => return false,
            Effect::ClearScreen => {}
            Effect::Unlock => {
                self.unlock();
            }
            Effect::CancelDrain => {
                if let Some((stop, _, _)) = &self.drain {
                    stop.stop(StopReason::Cancelled);
                }
            }
            Effect::Execute {
                mutation, notes, ..
            } => self.execute(*mutation, notes),
            Effect::SaveNotes { text, .. } => self.execute(Mutation::Notes { text }, None),
            Effect::RunPlan {
                kind, plan, drain, ..
            } => {
                let req = PlanRequest {
                    kind,
                    cluster: plan.cluster.clone(),
                    drain,
                    accepted: plan.degraded.iter().cloned().collect(),
                    confirmed: *plan,
                };
                self.run_plan(req);
            }
        }
        true
    }

    /// Runs a mutation; a release step that is pushed keeps the lock while it is followed,
    /// until `update` asks for it back.
    fn execute(&mut self, mutation: Mutation, notes: Option<String>) {
        let Some(ops) = self.ops.clone() else {
            self.notice(text::NO_EXECUTOR, true);
            return;
        };
        let op = Operation::Mutation {
            mutation: mutation.clone(),
            notes,
        };
        let progress = ops.start(op, Arc::default(), true);
        let running = Running::start(&self.inflight);
        tokio::spawn(forward(
            progress,
            self.done_tx.clone(),
            running,
            Some(mutation),
        ));
    }

    fn run_plan(&mut self, req: PlanRequest) {
        let Some(ops) = self.ops.clone() else {
            self.notice(text::NO_EXECUTOR, true);
            return;
        };
        let stop = Arc::new(StopFlag::default());
        self.drain = Some((Arc::clone(&stop), req.kind, req.cluster.clone()));
        let progress = ops.start(Operation::Plan(req), stop, false);
        let running = Running::start(&self.inflight);
        tokio::spawn(forward(progress, self.done_tx.clone(), running, None));
    }

    /// Ends the session: a running drain stops after its current batch (audited as
    /// interrupted), every other running effect finishes, and the lock is given back.
    pub async fn finish(&mut self, app: &mut App, recorder: &mut Option<Recorder>) -> Outcome {
        let drain = self.drain.take();
        if let Some((stop, _, _)) = &drain {
            stop.stop(StopReason::Interrupted);
        }
        let mut stopped = None;
        let deadline = Instant::now() + STOP_WAIT;
        loop {
            let msg =
                match tokio::time::timeout(Duration::from_millis(50), self.done_rx.recv()).await {
                    Ok(Some(msg)) => msg,
                    Ok(None) => break,
                    Err(_) if self.inflight.load(Ordering::SeqCst) == 0 => break,
                    Err(_) if Instant::now() > deadline => {
                        tracing::warn!("quitting with effects still running");
                        break;
                    }
                    Err(_) => continue,
                };
            if let Msg::DrainDone(Ok(r)) = &msg {
                stopped = r.stopped;
            }
            // What the effects report is still shown, logged and recorded; their follow-ups are
            // not run.
            record(recorder, app, &msg, self.executor());
            update(app, msg);
        }
        if let Some(giving_back) = self.unlock() {
            let _ = giving_back.await;
        }
        match (drain, stopped) {
            (Some((_, kind, cluster)), Some(StopReason::Interrupted)) => {
                Outcome::Interrupted(text::interrupted(kind, &cluster))
            }
            _ => Outcome::Quit,
        }
    }

    fn finished_drain(&mut self) {
        self.drain = None;
    }
}

/// Hands an operation's progress to the console as messages, until its outcome.
async fn forward(
    mut progress: mpsc::Receiver<Progress>,
    tx: mpsc::Sender<Msg>,
    _running: Running,
    mutation: Option<Mutation>,
) {
    let mut ended = false;
    while let Some(p) = progress.recv().await {
        ended |= p.is_last();
        let msg = match p {
            Progress::Waiting(text) => Msg::Notice { text, bad: false },
            Progress::Moved { done, total } => Msg::DrainProgress { done, total },
            Progress::Planned(result) => Msg::DrainDone(result),
            Progress::Executed(result) => match &mutation {
                Some(m) => Msg::Executed {
                    mutation: Box::new(m.clone()),
                    result,
                },
                None => continue,
            },
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
    // The operation's task ended without an outcome (it panicked): the console is told, so
    // that it does not wait for it for ever.
    if !ended {
        let error = crate::ops::service::unfinished();
        let msg = match mutation {
            Some(m) => Msg::Executed {
                mutation: Box::new(m),
                result: Err(error),
            },
            None => Msg::DrainDone(Err(error)),
        };
        let _ = tx.send(msg).await;
    }
}

/// The console's loop. Returns how it ended and the recording kept, if any.
async fn event_loop(
    guard: &mut TerminalGuard,
    source: Box<dyn FleetSource>,
    mut app: App,
    options: &Options,
    mut runner: Runner,
    mut recorder: Option<Recorder>,
) -> anyhow::Result<(Outcome, Option<PathBuf>)> {
    let (theme, started) = (&options.theme, options.started);
    // Caught before anything is drawn: a SIGTERM, SIGHUP or SIGINT from the first frame on
    // leaves through the guard, never by the default action with the terminal still raw.
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let size = guard.terminal()?.size()?;
    if (size.width, size.height) != (app.view.size.width, app.view.size.height) {
        app.view.size = Rect::new(0, 0, size.width, size.height);
    }
    draw(guard, &app, theme)?;
    app.view.dirty = false;
    // The end-to-end tests check that a panic leaves the terminal usable; only a debug build
    // can be asked to panic.
    #[cfg(debug_assertions)]
    if std::env::var("SHOPCTL_TEST_PANIC").is_ok_and(|v| v == "after-first-frame") {
        panic!("SHOPCTL_TEST_PANIC asked for a panic after the first frame");
    }
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "first frame drawn"
    );
    let mut first_data = true;
    // How many shops the last frame showed (a live fleet's shops arrive as they are listed).
    let mut drawn_shops = 0;
    tracing::info!(mode = app.session.info.mode, context = %app.session.info.context, readonly = app.readonly(), "console started");

    runner.reconcile();
    let (tx, mut rx) = mpsc::channel(1024);
    let watch: JoinHandle<()> = tokio::spawn(source.watch(tx));
    let _stop_watch = AbortOnDrop(watch);
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut terminal_gone = false;

    loop {
        let msg = tokio::select! {
            ev = events.next(), if !terminal_gone => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(Event::Paste(text))) => Msg::Paste(text),
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    tracing::warn!("reading the terminal: {e}");
                    terminal_gone = true;
                    Msg::Terminate(Ending::TerminalGone)
                }
                None => Msg::Terminate(Ending::TerminalGone),
            },
            Some(ev) = rx.recv() => Msg::Source(ev),
            Some(msg) = runner.recv() => msg,
            _ = tick.tick() => Msg::Tick(Ts::now()),
            _ = sigterm.recv() => Msg::Terminate(Ending::Terminate),
            _ = sighup.recv() => Msg::Terminate(Ending::Hangup),
            _ = sigint.recv() => Msg::Terminate(Ending::Interrupt),
        };
        if let Msg::Terminate(why) = &msg {
            tracing::info!(?why, "terminating");
            terminal_gone |= matches!(why, Ending::Hangup | Ending::TerminalGone);
        }
        if matches!(msg, Msg::DrainDone(_)) {
            runner.finished_drain();
        }
        record(&mut recorder, &mut app, &msg, runner.executor());
        if matches!(msg, Msg::Tick(_)) {
            runner.check_kept_lock();
        }
        let mut effects = update(&mut app, msg);
        // Coalesce: apply everything already waiting as one batch, then draw once.
        let mut waiting = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            waiting.push(ev);
        }
        if !waiting.is_empty() {
            let batch = Msg::Sources(waiting);
            record(&mut recorder, &mut app, &batch, runner.executor());
            effects.extend(update(&mut app, batch));
        }
        for effect in effects {
            if effect == Effect::ClearScreen && !terminal_gone {
                if let Err(e) = guard.terminal().and_then(|t| t.clear()) {
                    tracing::warn!("clearing the terminal: {e}");
                }
                app.view.dirty = true;
            }
            if !runner.start(effect) {
                let outcome = runner.finish(&mut app, &mut recorder).await;
                tracing::info!(?outcome, "console stopped");
                return Ok((outcome, recorder.and_then(Recorder::finish)));
            }
        }
        if app.view.dirty && !terminal_gone {
            if let Err(e) = draw(guard, &app, theme) {
                // A closed terminal (hangup): stop cleanly instead of failing mid-operation.
                tracing::warn!("drawing: {e}");
                let outcome = runner.finish(&mut app, &mut recorder).await;
                return Ok((outcome, recorder.and_then(Recorder::finish)));
            }
            app.view.dirty = false;
            if app.data.fleet.shops.len() != drawn_shops {
                drawn_shops = app.data.fleet.shops.len();
                tracing::debug!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    shops = drawn_shops,
                    "frame drawn"
                );
            }
            // The whole fleet: every source's first read in.
            if first_data && app.data.sources.first_reads_done() && !app.data.fleet.shops.is_empty()
            {
                first_data = false;
                tracing::info!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    shops = app.data.fleet.shops.len(),
                    "first frame with the whole fleet drawn"
                );
            }
        }
    }
}

/// Stops the source task when the loop ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Records a message; a recording that cannot be written any more says so once.
fn record(recorder: &mut Option<Recorder>, app: &mut App, msg: &Msg, ex: Option<&Executor>) {
    if let Some(r) = recorder
        && let Some(why) = r.record(msg)
    {
        app.say_for(why, true, NOT_PERMITTED_SECS);
        if !r.is_recording() {
            app.session.recording = Recording::Stopped;
            app.view.dirty = true;
            // An audit line never names a recording that has stopped.
            if let Some(ex) = ex {
                ex.unname_recording();
            }
        }
    }
}

/// Draws one frame as a synchronized update (terminals that support it show it at once).
pub(crate) fn draw(guard: &mut TerminalGuard, app: &App, theme: &Theme) -> std::io::Result<()> {
    guard.frame(|f| render::render(app, theme, f)).map(|_| ())
}

#[cfg(test)]
mod tests;
