//! The console's main loop and effect runner. Input, source events, ticks and signals become
//! messages for `update`; everything waiting is applied as one batch and drawn once, only when
//! something visible changed. Effects run here, outside `App`, and report back as messages. The
//! runner owns the operator lock guard while an operation (or a followed rollout) holds it, and
//! gives it back exactly once.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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
use super::terminal::TerminalGuard;
use super::text;
use super::theme::Theme;
use super::update::update;
use crate::backends::FleetSource;
use crate::domain::Ts;
use crate::domain::release::GatePolicy;
use crate::ops::access::WriteAccess;
use crate::ops::drain::{PlanRequest, StopFlag, StopReason, run_plan};
use crate::ops::{Executor, LockGuard, Mutation};

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
/// How often a held lock is renewed while a rollout is followed.
const RENEW_EVERY: Duration = Duration::from_secs(60);

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
/// A console without an executor is read-only: nothing in it can mutate the fleet.
pub fn run(
    source: Box<dyn FleetSource>,
    executor: Option<Executor>,
    options: Options,
) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (w, h) = ct::size()?;
    let mut app = App::new(
        source.info(),
        executor.as_ref().map(WriteAccess::of),
        Ts::now(),
        Rect::new(0, 0, w, h),
    );
    app.policy = options.policy.clone();
    if let Some(every) = options.wall {
        app.wall = Some(super::wall::WallState::rotating(every));
    }
    if let Some(ex) = &executor {
        app.session = ex.holder().session.clone();
        app.denied = ex.denied().to_vec();
        if !app.denied.is_empty() {
            app.say_for(text::not_permitted(&app.denied), true, NOT_PERMITTED_SECS);
        }
    }
    // An explicit recording that cannot be written stops the console before it starts; an
    // automatic one is reported and the console goes on unrecorded.
    let header = Header::of(&app);
    let recorder = match &options.record {
        Record::Off => None,
        Record::To(path) => Some(
            Recorder::create(path, &header, false)
                .map_err(|e| anyhow::anyhow!("cannot record the session: {e}"))?,
        ),
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
            match Recorder::create(&writer::automatic_file(dir, app.now), &header, true) {
                Ok(r) => Some(r.limited_to(max_bytes.saturating_sub(others))),
                Err(e) => {
                    tracing::warn!("not recording this session: {e}");
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
    if let (Some(r), Some(ex)) = (&recorder, &executor) {
        ex.name_recording(r.path().display().to_string());
    }
    let mut guard = TerminalGuard::enter()?;
    let runner = Runner::new(executor.map(Arc::new));
    let result = runtime.block_on(event_loop(
        &mut guard, source, app, &options, runner, recorder,
    ));
    drop(guard);
    runtime.shutdown_timeout(Duration::from_millis(200));
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

/// Runs effects: mutations on blocking threads, the lock guard, a running drain. What they did
/// comes back as messages; the runner never changes `App` itself.
pub struct Runner {
    executor: Option<Arc<Executor>>,
    /// The lock, while this console holds it.
    held: Arc<Mutex<Option<LockGuard>>>,
    last_renew: Instant,
    /// The running drain or restore, and how to stop it.
    drain: Option<(Arc<StopFlag>, String)>,
    /// Effects still running on blocking threads.
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
    pub fn new(executor: Option<Arc<Executor>>) -> Runner {
        let (done_tx, done_rx) = mpsc::channel(64);
        Runner {
            executor,
            held: Arc::new(Mutex::new(None)),
            last_renew: Instant::now(),
            drain: None,
            inflight: Arc::new(AtomicUsize::new(0)),
            done_tx,
            done_rx,
        }
    }

    /// The next message an effect reported.
    pub async fn recv(&mut self) -> Option<Msg> {
        self.done_rx.recv().await
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
        let Some(ex) = self.executor.clone() else {
            return;
        };
        let tx = self.done_tx.clone();
        tokio::task::spawn_blocking(move || {
            for text in ex.reconcile(Ts::now()) {
                tracing::warn!("{text}");
                let _ = tx.blocking_send(Msg::Notice { text, bad: true });
            }
        });
    }

    /// Gives the lock back, if held, on a blocking thread (a live Lease is a network call).
    fn unlock(&self) -> Option<tokio::task::JoinHandle<()>> {
        let guard = self.held.lock().ok().and_then(|mut g| g.take())?;
        Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = guard.release() {
                tracing::warn!("giving the operator lock back: {e}");
            }
        }))
    }

    /// Renews a lock held across a followed rollout; says so if it was lost.
    fn renew(&mut self) {
        if self.last_renew.elapsed() < RENEW_EVERY {
            return;
        }
        self.last_renew = Instant::now();
        let (held, tx) = (Arc::clone(&self.held), self.done_tx.clone());
        let running = Running::start(&self.inflight);
        tokio::task::spawn_blocking(move || {
            let _running = running;
            let result = match held.lock() {
                Ok(g) => g.as_ref().map(|guard| guard.renew(Ts::now())),
                Err(_) => None,
            };
            if let Some(Err(e)) = result {
                tracing::warn!("renewing the operator lock: {e}");
                let _ = tx.blocking_send(Msg::Notice {
                    text: text::lock_lost(&e.to_string()),
                    bad: true,
                });
            }
        });
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
                if let Some((stop, _)) = &self.drain {
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

    fn execute(&mut self, mutation: Mutation, notes: Option<String>) {
        let Some(ex) = self.executor.clone() else {
            self.notice(text::NO_EXECUTOR, true);
            return;
        };
        let (tx, held) = (self.done_tx.clone(), Arc::clone(&self.held));
        self.last_renew = Instant::now();
        let running = Running::start(&self.inflight);
        tokio::task::spawn_blocking(move || {
            let _running = running;
            let now = Ts::now();
            // What the write waits for is said in the footer while it waits.
            let notices = tx.clone();
            let report = move |text: String| {
                let _ = notices.try_send(Msg::Notice { text, bad: false });
            };
            let result = if !mutation.needs().contains(&crate::ops::Capability::Lock) {
                ex.execute(None, &mutation, now, notes.as_deref())
            } else {
                match ex.lock_for(now, &mutation.purpose()) {
                    Ok(guard) => {
                        let r = ex.execute_reporting(
                            Some(&guard),
                            &mutation,
                            now,
                            notes.as_deref(),
                            &report,
                        );
                        // A pushed release is followed until it settles: the lock stays held
                        // until `update` asks for it back.
                        if r.is_ok() && mutation.is_release() {
                            if let Ok(mut h) = held.lock() {
                                *h = Some(guard);
                            }
                        } else if let Err(e) = guard.release() {
                            tracing::warn!("giving the operator lock back: {e}");
                        }
                        r
                    }
                    Err(e) => Err(e),
                }
            };
            tracing::info!(
                action = mutation.action(),
                subject = mutation.subject(),
                ok = result.is_ok(),
                "mutation"
            );
            let _ = tx.blocking_send(Msg::Executed {
                mutation: Box::new(mutation),
                result,
            });
        });
    }

    fn run_plan(&mut self, req: PlanRequest) {
        let Some(ex) = self.executor.clone() else {
            self.notice(text::NO_EXECUTOR, true);
            return;
        };
        let stop = Arc::new(StopFlag::default());
        self.drain = Some((Arc::clone(&stop), req.cluster.clone()));
        let tx = self.done_tx.clone();
        let running = Running::start(&self.inflight);
        tokio::task::spawn_blocking(move || {
            let _running = running;
            let progress_tx = tx.clone();
            let mut progress = move |done: usize, total: usize| {
                let _ = progress_tx.blocking_send(Msg::DrainProgress { done, total });
            };
            let result = ex.lock_for(Ts::now(), &req.purpose()).and_then(|guard| {
                let r = run_plan(&ex, &guard, &req, &Ts::now, &mut progress, &stop);
                if let Err(e) = guard.release() {
                    tracing::warn!("giving the operator lock back: {e}");
                }
                r
            });
            tracing::info!(cluster = %req.cluster, kind = ?req.kind, ok = result.is_ok(), "placement plan executed");
            let _ = tx.blocking_send(Msg::DrainDone(result));
        });
    }

    /// Ends the session: a running drain stops after its current batch (audited as
    /// interrupted), every other running effect finishes, and the lock is given back.
    pub async fn finish(&mut self, app: &mut App, recorder: &mut Option<Recorder>) -> Outcome {
        let drain = self.drain.take();
        if let Some((stop, _)) = &drain {
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
            record(recorder, app, &msg, self.executor.as_deref());
            update(app, msg);
        }
        if let Some(giving_back) = self.unlock() {
            let _ = giving_back.await;
        }
        match (drain, stopped) {
            (Some((_, cluster)), Some(StopReason::Interrupted)) => {
                Outcome::Interrupted(text::interrupted(&cluster))
            }
            _ => Outcome::Quit,
        }
    }

    fn finished_drain(&mut self) {
        self.drain = None;
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
    if (size.width, size.height) != (app.size.width, app.size.height) {
        app.size = Rect::new(0, 0, size.width, size.height);
    }
    draw(guard, &app, theme)?;
    app.dirty = false;
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
    tracing::info!(mode = app.info.mode, context = %app.info.context, readonly = app.readonly(), "console started");

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
        record(&mut recorder, &mut app, &msg, runner.executor.as_deref());
        // Never wait on the lock's mutex here: a renewal may hold it across a network call.
        if matches!(msg, Msg::Tick(_)) && runner.held.try_lock().is_ok_and(|h| h.is_some()) {
            runner.renew();
        }
        let mut effects = update(&mut app, msg);
        // Coalesce: apply everything already waiting as one batch, then draw once.
        let mut waiting = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            waiting.push(ev);
        }
        if !waiting.is_empty() {
            let batch = Msg::Sources(waiting);
            record(&mut recorder, &mut app, &batch, runner.executor.as_deref());
            effects.extend(update(&mut app, batch));
        }
        for effect in effects {
            if effect == Effect::ClearScreen && !terminal_gone {
                if let Err(e) = guard.terminal().and_then(|t| t.clear()) {
                    tracing::warn!("clearing the terminal: {e}");
                }
                app.dirty = true;
            }
            if !runner.start(effect) {
                let outcome = runner.finish(&mut app, &mut recorder).await;
                tracing::info!(?outcome, "console stopped");
                return Ok((outcome, recorder.and_then(Recorder::finish)));
            }
        }
        if app.dirty && !terminal_gone {
            if let Err(e) = draw(guard, &app, theme) {
                // A closed terminal (hangup): stop cleanly instead of failing mid-operation.
                tracing::warn!("drawing: {e}");
                let outcome = runner.finish(&mut app, &mut recorder).await;
                return Ok((outcome, recorder.and_then(Recorder::finish)));
            }
            app.dirty = false;
            if app.fleet.shops.len() != drawn_shops {
                drawn_shops = app.fleet.shops.len();
                tracing::debug!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    shops = drawn_shops,
                    "frame drawn"
                );
            }
            // The whole fleet: every source's first read in.
            if first_data && app.sources.first_reads_done() && !app.fleet.shops.is_empty() {
                first_data = false;
                tracing::info!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    shops = app.fleet.shops.len(),
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
        // An audit line never names a recording that has stopped.
        if !r.is_recording()
            && let Some(ex) = ex
        {
            ex.unname_recording();
        }
    }
}

/// Draws one frame as a synchronized update (terminals that support it show it at once).
pub(crate) fn draw(guard: &mut TerminalGuard, app: &App, theme: &Theme) -> std::io::Result<()> {
    guard.frame(|f| render::render(app, theme, f)).map(|_| ())
}

#[cfg(test)]
mod tests;
