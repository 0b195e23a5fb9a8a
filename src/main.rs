#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;

use clap::Parser;

use shopctl::backends::demo::store::DemoError;
use shopctl::backends::demo::{DemoFleet, DemoOptions, DemoSource, default_dir};
use shopctl::backends::verifying::Verifying;
use shopctl::backends::{FleetSource, live};
use shopctl::cli::{Cli, Command, DrainCommand, Output, ReleaseAction, SilenceAction, Usage};
use shopctl::commands::Exit;
use shopctl::commands::release::{Confirm, Decision};
use shopctl::domain::Ts;
use shopctl::domain::release::GatePolicy;
use shopctl::ops::{Executor, Holder, Operations};
use shopctl::ui::keymap::Keys;
use shopctl::ui::theme::Theme;
use shopctl::{commands, logging, ui};

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // Before anything opens a file (which would take its place as descriptor 1): output to a
    // closed stdout (`>&-`) would be lost without a word, so nothing is done.
    if stdout_closed() {
        let _ = writeln!(
            std::io::stderr(),
            "shopctl: standard output is closed; nothing was done (to discard the output, send it to /dev/null)"
        );
        return ExitCode::from(Exit::Error as u8);
    }
    let cli = Cli::parse();
    let _log = logging::init();
    // The process's one runtime: the console, the commands, the stores and the lock's renewals
    // all run on it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("shopctl")
        .enable_all()
        .build();
    let result = match &runtime {
        Ok(rt) => rt.block_on(run(cli, started)),
        Err(e) => Err(anyhow::anyhow!("cannot start: {e}")),
    };
    // Whatever is still running (a watch, a renewal of a lock already given back) is let go.
    if let Ok(rt) = runtime {
        rt.shutdown_timeout(std::time::Duration::from_millis(200));
    }
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            // The terminal may be gone (a dropped SSH session): never panic on writing this.
            let _ = writeln!(std::io::stderr(), "shopctl: {e:#}");
            ExitCode::from(exit_status(&e) as u8)
        }
    };
    // Output that could not be written is an error, even when the command itself succeeded.
    match shopctl::output::finish() {
        Ok(()) => code,
        Err(e) => {
            tracing::error!("{e}");
            let _ = writeln!(std::io::stderr(), "shopctl: {e}");
            if code == ExitCode::SUCCESS {
                ExitCode::from(Exit::Error as u8)
            } else {
                code
            }
        }
    }
}

async fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Themes) => {
            shopctl::out!("{}", ui::theme::listing());
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Crds) => {
            shopctl::out!("{}", shopctl::backends::live::crds::crds_yaml()?);
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let keys = configured_keys(&cli)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::choose(cli.theme.as_deref(), no_color)?;
    if cli.command.is_some() {
        if cli.wall {
            return Err(Usage(
                "--wall is a layout of the console: run 'shopctl --wall' without a command".into(),
            )
            .into());
        }
        if cli.record.is_some() {
            return Err(Usage(
                "--record records the console: run 'shopctl --record FILE' without a command"
                    .into(),
            )
            .into());
        }
    }
    if let Some(Command::Replay {
        file,
        speed,
        export_cast,
    }) = &cli.command
    {
        return replay(file, *speed, export_cast.as_deref(), &theme, &keys).await;
    }
    ui::keymap::install(keys);
    let Opened {
        source,
        executor,
        policy,
        export,
        recording,
        audit,
    } = open_backend(&cli).await?;
    let ops = executor.map(Operations::new);
    // A command that may write first completes the audit of steps an earlier session made
    // without writing their outcome (the console does so in the background).
    if let (Some(ops), Some(_)) = (&ops, &cli.command) {
        for said in ops.reconcile().await {
            eprintln!("shopctl: {said}");
        }
    }
    match cli.command {
        Some(Command::Status { output }) => {
            let mut source = source;
            let now = Ts::now();
            let fleet = source.snapshot(now).await?;
            // Read only: what an ended session left without an outcome is said, and reconciled
            // by the next start that may write.
            let log = shopctl::ops::audit::AuditLog { path: audit };
            let entries = shopctl::ops::offload(move || log.read())
                .await
                .unwrap_or_else(|e| {
                    let _ = writeln!(
                        std::io::stderr(),
                        "shopctl: the audit log cannot be read: {e}"
                    );
                    Vec::new()
                });
            // Every step without an outcome but those of sessions still running here (another
            // host's, or an earlier boot's, are said too).
            let open: Vec<_> = shopctl::ops::audit::open_intents(&entries)
                .into_iter()
                .filter(|e| {
                    !e.session
                        .as_deref()
                        .is_some_and(shopctl::ops::lock::session_runs_here)
                })
                .cloned()
                .collect();
            shopctl::out!("{}", commands::status(&fleet, output, now, &open));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Themes | Command::Crds | Command::Replay { .. }) => Ok(ExitCode::SUCCESS),
        Some(Command::Reassign {
            shop,
            to,
            change_tier,
            yes,
        }) => {
            let mut source = source;
            let exit = commands::placement::reassign(
                source.as_mut(),
                ops.as_ref(),
                &shop,
                &to,
                change_tier,
                yes,
            )
            .await;
            Ok(ExitCode::from(exit as u8))
        }
        Some(Command::Drain {
            plan,
            cluster,
            yes,
            accept_degraded,
        }) => {
            let mut source = source;
            let exit = match (plan, cluster) {
                (Some(DrainCommand::Plan { cluster, output }), _) => {
                    commands::placement::drain_plan(
                        source.as_mut(),
                        &cluster,
                        output == Output::Json,
                    )
                    .await
                }
                (None, Some(cluster)) => {
                    commands::placement::drain(
                        source.as_mut(),
                        ops.as_ref(),
                        &cluster,
                        yes,
                        &accept_degraded,
                    )
                    .await
                }
                // A usage error, as the argument parser's own (exit 2).
                (None, None) => {
                    eprintln!(
                        "shopctl: name the cluster to drain: 'shopctl drain CLUSTER' or 'shopctl drain plan CLUSTER'"
                    );
                    commands::Exit::Refused
                }
            };
            Ok(ExitCode::from(exit as u8))
        }
        Some(Command::Restore { cluster, yes }) => {
            let mut source = source;
            let exit =
                commands::placement::restore(source.as_mut(), ops.as_ref(), &cluster, yes).await;
            Ok(ExitCode::from(exit as u8))
        }
        Some(Command::Release { action }) => {
            let mut source = source;
            let exit = match action {
                ReleaseAction::Status { output } => {
                    let now = Ts::now();
                    let fleet = source.snapshot(now).await?;
                    // This process holds no lock: any held lock is another session's.
                    shopctl::out!(
                        "{}",
                        commands::release::status(&fleet, now, output == Output::Json, "", &policy)
                    );
                    Exit::Done
                }
                ReleaseAction::History {
                    tier,
                    since,
                    output,
                } => {
                    commands::history::history(
                        source.as_mut(),
                        tier.as_deref(),
                        since.as_deref(),
                        output == Output::Json,
                    )
                    .await
                }
                ReleaseAction::Step {
                    tier,
                    yes,
                    override_reason,
                } => {
                    commands::release::step(
                        source.as_mut(),
                        ops.as_ref(),
                        &tier,
                        override_reason.as_deref(),
                        if yes { Confirm::Yes } else { Confirm::Ask },
                    )
                    .await
                }
                ReleaseAction::Rollback { tier, yes } => {
                    commands::release::rollback(
                        source.as_mut(),
                        ops.as_ref(),
                        &tier,
                        if yes { Confirm::Yes } else { Confirm::Ask },
                    )
                    .await
                }
                ReleaseAction::Watch { once, interval } => {
                    commands::watch::watch(
                        source.as_mut(),
                        ops.as_ref(),
                        once,
                        std::time::Duration::from_secs(interval),
                    )
                    .await
                }
                ReleaseAction::Halt { tier, reason, yes } => {
                    let d = Decision::Halt {
                        tier: tier.as_deref(),
                        reason: &reason,
                    };
                    commands::release::decide(source.as_mut(), ops.as_ref(), d, confirm(yes)).await
                }
                ReleaseAction::Resume { tier, reason, yes } => {
                    let d = Decision::Resume {
                        tier: tier.as_deref(),
                        reason: &reason,
                    };
                    commands::release::decide(source.as_mut(), ops.as_ref(), d, confirm(yes)).await
                }
                ReleaseAction::Clear { tier, reason, yes } => {
                    let d = Decision::Clear {
                        tier: &tier,
                        reason: &reason,
                    };
                    commands::release::decide(source.as_mut(), ops.as_ref(), d, confirm(yes)).await
                }
                ReleaseAction::Request { tier, yes } => {
                    let d = Decision::Request { tier: &tier };
                    commands::release::decide(source.as_mut(), ops.as_ref(), d, confirm(yes)).await
                }
                ReleaseAction::Approve { tier, yes } => {
                    let d = Decision::Approve { tier: &tier };
                    commands::release::decide(source.as_mut(), ops.as_ref(), d, confirm(yes)).await
                }
            };
            Ok(ExitCode::from(exit as u8))
        }
        Some(Command::Export {
            repo_url,
            with_status,
        }) => {
            let mut source = source;
            if let Some(url) = &repo_url {
                commands::export::check_repo_url(url).map_err(|e| Usage(e.to_string()))?;
            }
            let now = Ts::now();
            let fleet = source.snapshot(now).await?;
            let opts = commands::export::ExportOptions {
                read_at: now,
                repo_url: repo_url.as_deref().unwrap_or(&export.0),
                argocd_namespace: &export.1,
                shopset_label: &export.2,
                with_status,
            };
            let mut skipped = Vec::new();
            let exported = commands::export::objects(&fleet, &opts, &mut skipped);
            for s in &skipped {
                let _ = writeln!(std::io::stderr(), "shopctl: {s}");
            }
            match exported {
                Ok(objects) => {
                    shopctl::out!("{}", commands::export::yaml(&objects)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(bad) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "shopctl: cannot export: {} (lowercase letters, digits and '-'): {}{}{}",
                        if bad.len() == 1 {
                            "this name is not a valid Kubernetes object name"
                        } else {
                            "these names are not valid Kubernetes object names"
                        },
                        bad.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
                        if bad.len() > 10 {
                            format!(" and {} more", bad.len() - 10)
                        } else {
                            String::new()
                        },
                        if cli.demo {
                            "; this demo directory was created by an older shopctl: --demo-reset recreates it with valid names"
                        } else {
                            ""
                        }
                    );
                    Ok(ExitCode::from(Exit::Error as u8))
                }
            }
        }
        Some(Command::Silence { action }) => {
            let mut source = source;
            let exit = match action {
                SilenceAction::List { output } => {
                    let now = Ts::now();
                    let fleet = source.snapshot(now).await?;
                    match commands::silence::list(&fleet, output == Output::Json, now) {
                        Ok(text) => {
                            shopctl::out!("{text}");
                            Exit::Done
                        }
                        Err(why) => {
                            let _ = writeln!(std::io::stderr(), "shopctl: {why}");
                            Exit::Error
                        }
                    }
                }
                SilenceAction::Create {
                    matchers,
                    duration,
                    comment,
                    yes,
                } => {
                    commands::silence::create(
                        source.as_mut(),
                        ops.as_ref(),
                        &matchers,
                        &duration,
                        &comment,
                        yes,
                    )
                    .await
                }
                SilenceAction::Expire { id, yes } => {
                    commands::silence::expire(source.as_mut(), ops.as_ref(), &id, yes).await
                }
            };
            Ok(ExitCode::from(exit as u8))
        }
        None => {
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                anyhow::bail!(
                    "the console needs a terminal; for scripts use a command such as 'shopctl status -o json'"
                );
            }
            let record = match (&cli.record, recording) {
                (Some(file), _) => ui::Record::To(file.clone()),
                _ if cli.no_record || ops.is_none() => ui::Record::Off,
                (None, None) => ui::Record::Off,
                (None, Some((dir, keep, max_mib))) => ui::Record::Automatic {
                    dir,
                    keep,
                    max_bytes: max_mib.saturating_mul(1 << 20),
                },
            };
            let options = ui::Options {
                policy,
                theme,
                started,
                record,
                wall: cli.wall.then_some(cli.wall_rotate),
            };
            let outcome = ui::run(source, ops, options).await?;
            Ok(ExitCode::from(outcome.exit_code()))
        }
    }
}

/// `shopctl replay FILE`: on screen, or as an asciicast.
async fn replay(
    file: &std::path::Path,
    speed: f64,
    cast: Option<&std::path::Path>,
    theme: &Theme,
    viewer: &Keys,
) -> anyhow::Result<ExitCode> {
    use ui::recording::{cast, file::Recording, player};
    let rec = Recording::open(file)?;
    // The recorded key presses mean what they meant to the session; the player's own keys are
    // the viewer's.
    let recorded = Keys::from_names(&rec.header.keys)
        .map_err(|e| anyhow::anyhow!("'{}': the session's {e}", file.display()))?;
    ui::keymap::install(recorded.with_player_keys_of(viewer));
    if let Some(line) = rec.cut_off {
        let _ = writeln!(
            std::io::stderr(),
            "shopctl: '{}' line {line} is cut off (the session ended while writing it); replaying up to line {}",
            file.display(),
            line - 1
        );
    }
    match cast {
        Some(out) => {
            let exported = cast::export_file(player::Replay::new(rec, speed), speed, theme, out)?;
            // The file as written (the header and each frame's timing included).
            let size = std::fs::metadata(out).map_or(exported.bytes as u64, |m| m.len());
            let _ = writeln!(
                std::io::stderr(),
                "shopctl: wrote '{}' ({} frames, {} KiB): play it with 'asciinema play {}'",
                out.display(),
                exported.frames,
                size.div_ceil(1024),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => {
            if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
                anyhow::bail!(
                    "a replay needs a terminal; to watch it elsewhere, write a cast with '--export-cast OUT.cast'"
                );
            }
            player::run(rec, speed, theme).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `--yes`, or ask.
fn confirm(yes: bool) -> Confirm {
    if yes { Confirm::Yes } else { Confirm::Ask }
}

/// How often the demo measures its tiers' simulated series.
const DEMO_VERIFY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The configuration file as a table, with where it is: `None` when there is none (and none
/// was named). In live mode a file that cannot be read or parsed is `None` here too: live mode
/// says what is wrong with it when it reads it whole.
fn config_table(cli: &Cli) -> anyhow::Result<Option<(std::path::PathBuf, toml::Table)>> {
    let file = cli
        .config
        .clone()
        .unwrap_or_else(live::config::default_file);
    let src = match shopctl::ops::atomic::read_text_file(&file, 1 << 20) {
        Ok(src) => src,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && cli.config.is_none() => {
            return Ok(None);
        }
        Err(_) if !cli.demo => return Ok(None),
        Err(e) => anyhow::bail!("cannot read the configuration '{}': {e}", file.display()),
    };
    match toml::from_str::<toml::Table>(&src) {
        Ok(table) => Ok(Some((file, table))),
        Err(e) if cli.demo => anyhow::bail!(
            "configuration '{}' is not valid TOML: {}",
            file.display(),
            e.to_string().trim().replace('\n', " ")
        ),
        Err(_) => Ok(None),
    }
}

/// Demo mode's freeze windows: the configuration file's `[[freeze]]` tables. Live mode reads
/// them with the rest of its configuration.
fn configured_freezes(cli: &Cli) -> anyhow::Result<Vec<shopctl::domain::release::Freeze>> {
    match config_table(cli)? {
        None => Ok(Vec::new()),
        Some((file, table)) => Ok(live::config::freezes_in(&file, &table)?),
    }
}

/// The `[keys]` section of the configuration file, in either mode.
fn configured_keys(cli: &Cli) -> anyhow::Result<Keys> {
    let Some((file, table)) = config_table(cli)? else {
        return Ok(Keys::default());
    };
    match table.get("keys") {
        None => Ok(Keys::default()),
        Some(toml::Value::Table(t)) => Keys::from_table(t)
            .map_err(|e| anyhow::anyhow!("configuration '{}': {e}", file.display())),
        Some(_) => anyhow::bail!(
            "configuration '{}': keys must be a table ([keys])",
            file.display()
        ),
    }
}

/// Whether the process was started with its stdout closed (`>&-`). The Rust runtime puts
/// `/dev/null`, opened for reading and writing, in the place of a closed standard descriptor
/// before `main`; a shell's own `>/dev/null` opens it for writing only. A daemon (daemon(3),
/// `start-stop-daemon -b`) has all three on `/dev/null` opened for reading and writing: that
/// is not taken for a closed stdout, so only a stdout on it beside another stdin is.
fn stdout_closed() -> bool {
    use rustix::fs::{FileType, OFlags, fcntl_getfl, fstat, stat};
    let Ok(null) = stat("/dev/null") else {
        return false;
    };
    let on_null_rdwr = |fd: std::os::fd::BorrowedFd<'_>| {
        fstat(fd).is_ok_and(|st| {
            FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                && st.st_rdev == null.st_rdev
        }) && fcntl_getfl(fd).is_ok_and(|f| f & OFlags::RWMODE == OFlags::RDWR)
    };
    use std::os::fd::AsFd;
    on_null_rdwr(std::io::stdout().as_fd()) && !on_null_rdwr(std::io::stdin().as_fd())
}

/// The exit status of an error that stopped the run (DESIGN.md §5).
fn exit_status(e: &anyhow::Error) -> Exit {
    if e.downcast_ref::<Usage>().is_some() {
        return Exit::Refused;
    }
    match e.downcast_ref::<DemoError>() {
        Some(DemoError::ReadOnlyReset { .. }) => Exit::ReadOnly,
        Some(DemoError::ResetWhileLocked { .. } | DemoError::ResetLockUnreadable { .. }) => {
            Exit::Locked
        }
        _ => Exit::Error,
    }
}

/// What a backend opens to: the fleet's source, the release policy, and an executor unless the
/// session is read-only.
struct Opened {
    source: Box<dyn FleetSource>,
    executor: Option<Executor>,
    policy: GatePolicy,
    /// Where exported Applications point: the system repository, Argo CD's namespace and the
    /// label naming a ShopSet.
    export: (String, String, String),
    /// Where a read-write console records itself by default, and how many recordings to keep;
    /// `None` when automatic recording is off.
    recording: Option<(std::path::PathBuf, usize, u64)>,
    /// The audit log.
    audit: std::path::PathBuf,
}

/// Picks the backend. Only this function knows which one runs.
async fn open_backend(cli: &Cli) -> anyhow::Result<Opened> {
    // Only what may write gets an executor: a read (status, export, plans, lists) never waits
    // for the access reviews nor depends on them.
    let writes = match &cli.command {
        None
        | Some(Command::Reassign { .. })
        | Some(Command::Restore { .. })
        | Some(Command::Drain { plan: None, .. }) => true,
        Some(Command::Release { action }) => !matches!(action, ReleaseAction::Status { .. }),
        Some(Command::Silence { action }) => !matches!(action, SilenceAction::List { .. }),
        Some(_) => false,
    };
    // The wall screen is read-only by construction: it gets no executor.
    let readonly = cli.readonly || cli.wall || !writes;
    let auto_dir = ui::recording::writer::default_dir();
    let auto_keep = ui::recording::writer::KEEP_DEFAULT;
    let auto_max_mib = ui::recording::writer::MAX_MIB_DEFAULT;
    if !cli.demo {
        let file = cli
            .config
            .clone()
            .unwrap_or_else(live::config::default_file);
        let config = live::config::Config::load(&file, cli.context.as_deref())?;
        let executor = if readonly {
            None
        } else {
            Some(
                live::executor::executor(&config, Holder::new_session(shopctl::ops::operator()))
                    .await?,
            )
        };
        let policy = live::executor::policy(&config);
        let metrics = live::executor::metrics(&config)?;
        let every = std::time::Duration::from_secs(
            config
                .prometheus
                .as_ref()
                .map_or(15, |p| u64::from(p.interval_secs)),
        );
        let argo = config.argocd.first();
        let export = (
            config.git.remote.clone(),
            argo.map_or_else(|| "argocd".into(), |a| a.namespace.clone()),
            argo.map_or_else(|| "shopset.dev/shopset".into(), |a| a.shopset_label.clone()),
        );
        let recording = config.recording.auto.then(|| {
            (
                config.recording.dir.clone().unwrap_or(auto_dir),
                config.recording.keep as usize,
                config.recording.max_mib,
            )
        });
        return Ok(Opened {
            // What `status` and the placement commands read is the control plane's: an Argo
            // CD or system repository that cannot be read is reported, never fatal — a cluster
            // must be drainable while they are down.
            source: Verifying::wrap(
                Box::new(
                    if matches!(
                        cli.command,
                        Some(
                            Command::Status { .. }
                                | Command::Reassign { .. }
                                | Command::Drain { .. }
                                | Command::Restore { .. }
                        )
                    ) {
                        live::source::LiveSource::new(config).partial()
                    } else {
                        live::source::LiveSource::new(config)
                    },
                ),
                metrics,
                &policy.verifications,
                every,
            ),
            executor,
            policy,
            export,
            recording,
            audit: shopctl::state_dir().join("audit.jsonl"),
        });
    }
    let opts = DemoOptions {
        dir: cli.demo_dir.clone().unwrap_or_else(default_dir),
        scale: cli.demo_scale,
        seed: cli.demo_seed,
        scenario: cli.demo_scenario,
        reset: cli.demo_reset,
        readonly: cli.readonly,
        created_at: None,
    };
    let fleet = DemoFleet::open(&opts)?;
    let policy = GatePolicy {
        freezes: configured_freezes(cli)?,
        ..fleet.policy()
    };
    let executor = if readonly {
        None
    } else {
        Some(fleet.executor_with(
            Holder::new_session(shopctl::ops::operator()),
            policy.clone(),
        )?)
    };
    let metrics = fleet.metrics()?;
    let remote = shopctl::backends::demo::repos::remote_url(
        &opts.dir.join(shopctl::backends::demo::repos::SYSTEM_REMOTE),
    );
    Ok(Opened {
        source: Verifying::wrap(
            Box::new(DemoSource::new(fleet)),
            Some(metrics),
            &policy.verifications,
            DEMO_VERIFY_EVERY,
        ),
        executor,
        policy,
        export: (remote, "argocd".into(), "shopset.dev/shopset".into()),
        recording: Some((auto_dir, auto_keep, auto_max_mib)),
        audit: opts.dir.join(shopctl::backends::demo::AUDIT_FILE),
    })
}
