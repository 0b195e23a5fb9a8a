//! The interactive console: one `App` owned by the main loop, changed only in `update`,
//! drawn by a pure `render` — and only when something changed.

pub mod app;
pub mod detail;
pub mod dialogs;
pub mod guide;
pub mod keymap;
pub mod layout;
pub mod modal;
pub mod panes;
pub mod placement;
pub mod render;
pub mod state;
pub mod symbols;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod update;

use std::io::Write;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use crossterm::{execute, terminal as ct};
use futures::StreamExt;
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use self::app::{App, Effect, Msg};
use self::placement::PlanKind;
use self::terminal::TerminalGuard;
use self::theme::Theme;
use self::update::update;
use crate::domain::Ts;
use crate::ops::Executor;
use crate::ops::access::WriteAccess;
use crate::sources::FleetSource;

/// Runs the console until the operator quits or a signal ends it.
/// `started` is when the process started, for the first-frame time in the log.
/// A console without an executor is read-only: nothing in it can mutate the fleet.
pub fn run(
    source: Box<dyn FleetSource>,
    executor: Option<Executor>,
    theme: Theme,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let executor = executor.map(std::sync::Arc::new);
    let mut guard = TerminalGuard::enter()?;
    let result = runtime.block_on(event_loop(
        &mut guard,
        source,
        &theme,
        executor.clone(),
        started,
    ));
    if let Some(ex) = &executor
        && let Err(e) = ex.unlock()
    {
        tracing::warn!("releasing the lock at exit: {e}");
    }
    drop(guard);
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn event_loop(
    guard: &mut TerminalGuard,
    source: Box<dyn FleetSource>,
    theme: &Theme,
    executor: Option<std::sync::Arc<Executor>>,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let readonly = executor.is_none();
    let size = guard.terminal.size()?;
    let mut app = App::new(
        source.info(),
        executor.as_deref().map(WriteAccess::of),
        Ts::now(),
        Rect::new(0, 0, size.width, size.height),
    );
    draw(guard, &app, theme)?;
    app.dirty = false;
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "first frame drawn"
    );
    let mut first_data = true;
    tracing::info!(mode = app.info.mode, context = %app.info.context, readonly, "console started");

    let (tx, mut rx) = mpsc::channel(1024);
    std::thread::Builder::new()
        .name("source".into())
        .spawn(move || source.watch(tx))?;
    let (done_tx, mut done_rx) = mpsc::channel::<Msg>(64);
    let mut cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>> = None;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;

    loop {
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
                None => Msg::Terminate("input closed"),
            },
            Some(ev) = rx.recv() => Msg::Source(ev),
            Some(msg) = done_rx.recv() => msg,
            _ = tick.tick() => Msg::Tick(Ts::now()),
            _ = sigterm.recv() => Msg::Terminate("SIGTERM"),
            _ = sighup.recv() => Msg::Terminate("SIGHUP"),
            _ = sigint.recv() => Msg::Terminate("SIGINT"),
        };
        let mut effects = update(&mut app, msg);
        // Coalesce: apply everything already waiting as one batch, then draw once.
        let mut waiting = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            waiting.push(ev);
        }
        if !waiting.is_empty() {
            effects.extend(update(&mut app, Msg::Sources(waiting)));
        }
        for effect in effects {
            match effect {
                Effect::Quit => {
                    tracing::info!("console stopped");
                    return Ok(());
                }
                Effect::ClearScreen => {
                    guard.terminal.clear()?;
                    app.dirty = true;
                }
                Effect::Execute {
                    mutation, notes, ..
                } => {
                    let Some(ex) = executor.clone() else {
                        app.say("read-only: nothing can be changed from this console", true);
                        continue;
                    };
                    let tx = done_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let result = ex.execute(&mutation, Ts::now(), notes.as_deref());
                        let race = result.as_ref().err().is_some_and(|e| e.is_race());
                        tracing::info!(
                            action = mutation.action(),
                            tier = mutation.tier(),
                            ok = result.is_ok(),
                            "mutation"
                        );
                        let _ = tx.blocking_send(Msg::Executed {
                            mutation,
                            result: result.map_err(|e| e.to_string()),
                            race,
                        });
                    });
                }
                Effect::RunPlan {
                    kind, plan, drain, ..
                } => {
                    let Some(ex) = executor.clone() else {
                        app.say("read-only: nothing can be changed from this console", true);
                        continue;
                    };
                    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                    cancel = Some(flag.clone());
                    let tx = done_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let progress_tx = tx.clone();
                        let mut progress = move |done: usize, total: usize| {
                            let _ = progress_tx.blocking_send(Msg::DrainProgress { done, total });
                        };
                        let result = match kind {
                            PlanKind::Drain => crate::ops::drain::execute_drain(
                                &ex,
                                &plan,
                                &drain,
                                &Ts::now,
                                &mut progress,
                                &flag,
                            ),
                            PlanKind::Restore => crate::ops::drain::execute_restore(
                                &ex,
                                &plan,
                                &drain,
                                &Ts::now,
                                &mut progress,
                                &flag,
                            ),
                        };
                        tracing::info!(cluster = %plan.cluster, ?kind, ok = result.is_ok(), "placement plan executed");
                        let _ = tx.blocking_send(Msg::DrainDone(result.map_err(|e| e.to_string())));
                    });
                }
                Effect::CancelDrain => {
                    if let Some(flag) = &cancel {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                Effect::Unlock => {
                    if let Some(ex) = executor.clone() {
                        tokio::task::spawn_blocking(move || {
                            if let Err(e) = ex.unlock() {
                                tracing::warn!("unlock: {e}");
                            }
                        });
                    }
                }
                Effect::SaveNotes { text, .. } => match executor.clone() {
                    Some(ex) => {
                        let entry =
                            crate::ops::audit::AuditEntry::notes(&ex.operator, Ts::now(), &text);
                        match ex.audit().append(&entry) {
                            Ok(()) => app.say("notes saved to the audit log", false),
                            Err(e) => app
                                .say(format!("cannot save the notes to the audit log: {e}"), true),
                        }
                    }
                    None => app.say("read-only: notes are kept on screen, not saved", true),
                },
            }
        }
        if app.dirty {
            draw(guard, &app, theme)?;
            app.dirty = false;
            if first_data && !app.fleet.shops.is_empty() {
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

fn draw(guard: &mut TerminalGuard, app: &App, theme: &Theme) -> anyhow::Result<()> {
    execute!(guard.terminal.backend_mut(), ct::BeginSynchronizedUpdate)?;
    guard.terminal.draw(|f| render::render(app, theme, f))?;
    execute!(guard.terminal.backend_mut(), ct::EndSynchronizedUpdate)?;
    guard.terminal.backend_mut().flush()?;
    Ok(())
}
