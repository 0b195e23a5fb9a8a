//! The demo directory's files: `state.json` (what the fleet is), `shops.json` (where every shop
//! is placed) and the git repositories. Writes are atomic (write, then rename).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::topology::{self, Topology};
use super::{DEFAULT_SCALE, DemoOptions, Scenario, repos};
use crate::domain::{PreviousPlacement, Redundancy, ReleaseLock, Shop, Ts};
use crate::git::read::GitError;

pub const STATE_FILE: &str = "state.json";
pub const SHOPS_FILE: &str = "shops.json";
/// The operator lock: `{"holder", "acquired_at", "expires_at"}` (milliseconds since the epoch).
pub const LOCK_FILE: &str = "lock.json";
const INIT_LOCK: &str = ".init.lock";
/// How long a run waits for another process to finish creating the fleet, checking this often.
const INIT_WAIT: Duration = Duration::from_secs(30);
const INIT_POLL: Duration = Duration::from_millis(100);
const FORMAT_VERSION: u32 = 1;
/// The largest demo fleet the simulator supports.
pub const MAX_SCALE: u32 = 1_000_000;

#[derive(Debug, Error)]
pub enum DemoError {
    /// The cause is part of the message (not a separate source), so it is said once.
    #[error("cannot {action} '{path}': {cause}")]
    Io {
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("'{path}' is damaged: {message}; run with --demo-reset to recreate the demo fleet")]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "the demo directory '{dir}' holds {held}, not {asked}; add --demo-reset to recreate it, or choose another --demo-dir"
    )]
    Mismatch {
        dir: PathBuf,
        held: String,
        asked: String,
    },
    #[error(
        "'{dir}' is not empty and is not a demo directory (no {STATE_FILE}); choose another --demo-dir"
    )]
    NotDemoDir { dir: PathBuf },
    #[error(
        "'{dir}' holds an incomplete demo fleet (its creation did not finish); add --demo-reset to recreate it"
    )]
    Incomplete { dir: PathBuf },
    #[error(
        "another shopctl has been creating the demo fleet in '{dir}' for over {secs} s; if none is running, remove '{lock}'"
    )]
    InitBusy {
        dir: PathBuf,
        lock: PathBuf,
        secs: u64,
    },
    #[error(
        "the lock file '{path}' is damaged ({message}); if no release or drain is running, remove it"
    )]
    BadLock { path: PathBuf, message: String },
    #[error(
        "--demo-reset deletes the demo fleet in '{dir}', its audit log and git history, and is refused with --readonly"
    )]
    ReadOnlyReset { dir: PathBuf },
    #[error(
        "'{holder}' holds the operator lock of the demo fleet in '{dir}' until {until}; --demo-reset would delete the fleet under a running release or drain, so it is refused"
    )]
    ResetWhileLocked {
        dir: PathBuf,
        holder: String,
        until: String,
    },
    #[error(
        "the lock file '{path}' cannot be read ({message}), so a release or drain may be running; --demo-reset is refused. If none is running, remove '{path}'"
    )]
    ResetLockUnreadable { path: PathBuf, message: String },
    #[error(
        "there is no demo fleet in '{dir}', and a --readonly run creates none; run once without --readonly to create it, e.g. 'shopctl --demo --demo-dir {dir} status'"
    )]
    NoFleet { dir: PathBuf },
    #[error("--demo-scale {0} is out of range (1 to {MAX_SCALE})")]
    Scale(u32),
    #[error("cannot create the demo git repositories in '{dir}': {cause}")]
    CreateRepos { dir: PathBuf, cause: git2::Error },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// What the demo fleet was created with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoMeta {
    pub fleet_name: String,
    pub seed: u64,
    pub scale: u32,
    pub scenario: Scenario,
    pub created_at: Ts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    meta: DemoMeta,
    topology: Topology,
}

/// `shops.json` rows: `{"n": "maple-bakery", "r": "dual", "s": ["a-2", "b-1"]}`, plus
/// `"p": {"shopsets": [...], "drain": "..."}` for a shop a drain moved.
#[derive(Serialize, Deserialize)]
struct ShopRow {
    n: String,
    r: Redundancy,
    s: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<PreviousPlacement>,
}

#[derive(Debug, Clone)]
pub struct DemoState {
    pub dir: PathBuf,
    pub meta: DemoMeta,
    pub topology: Topology,
    state_mtime: Option<Stamp>,
    shops_mtime: Option<Stamp>,
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> DemoError + 'a {
    move |cause| DemoError::Io {
        action,
        path: path.to_path_buf(),
        cause,
    }
}

/// What tells one version of a file from another: modification time, size and inode (a file
/// replaced by rename is a new inode, whatever the clock's resolution).
type Stamp = (SystemTime, u64, u64);

fn mtime(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len(), m.ino()))
}

/// Removes the temporary files (`state.tmp.<pid>.<random>`) that processes killed mid-write left
/// behind; a live process's are left alone.
fn sweep_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((_, rest)) = name.split_once(".tmp.") else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DemoError> {
    crate::ops::atomic::write(path, bytes).map_err(io("write", path))
}

pub fn open_or_create(opts: &DemoOptions) -> Result<DemoState, DemoError> {
    let dir = &opts.dir;
    if let Some(scale) = opts.scale
        && !(1..=MAX_SCALE).contains(&scale)
    {
        return Err(DemoError::Scale(scale));
    }
    if opts.reset && opts.readonly {
        return Err(DemoError::ReadOnlyReset { dir: dir.clone() });
    }
    if opts.reset && dir.exists() {
        if contents(dir)? == Contents::Foreign {
            return Err(DemoError::NotDemoDir { dir: dir.clone() });
        }
        refuse_while_locked(dir, Ts::now())?;
        fs::remove_dir_all(dir).map_err(io("remove", dir))?;
    }
    if opts.readonly {
        return open_existing(dir, opts);
    }
    let existed = dir.exists();
    fs::create_dir_all(dir).map_err(io("create", dir))?;
    let state_path = dir.join(STATE_FILE);
    let lock = dir.join(INIT_LOCK);
    let started = Instant::now();
    loop {
        if state_path.exists() {
            let state = read_state(dir)?;
            check_matches(&state, opts)?;
            sweep_temporaries(dir);
            return Ok(state);
        }
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(_) => {
                let result = create(opts);
                let _ = fs::remove_file(&lock);
                if result.is_err() && !existed {
                    // Only succeeds when empty: a failed creation removed what it wrote.
                    let _ = fs::remove_dir(dir);
                }
                return result;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if started.elapsed() > INIT_WAIT {
                    return Err(DemoError::InitBusy {
                        dir: dir.clone(),
                        lock,
                        secs: INIT_WAIT.as_secs(),
                    });
                }
                std::thread::sleep(INIT_POLL);
            }
            Err(e) => return Err(io("create", &lock)(e)),
        }
    }
}

/// A read-only run reads the fleet that is there (waiting for one being created) and never
/// writes.
fn open_existing(dir: &Path, opts: &DemoOptions) -> Result<DemoState, DemoError> {
    let started = Instant::now();
    loop {
        if dir.join(STATE_FILE).exists() {
            let state = read_state(dir)?;
            check_matches(&state, opts)?;
            return Ok(state);
        }
        if !dir.join(INIT_LOCK).exists() {
            return Err(match dir.exists().then(|| contents(dir)).transpose()? {
                None | Some(Contents::Empty) => DemoError::NoFleet { dir: dir.into() },
                Some(Contents::Demo) => DemoError::Incomplete { dir: dir.into() },
                Some(Contents::Foreign) => DemoError::NotDemoDir { dir: dir.into() },
            });
        }
        if started.elapsed() > INIT_WAIT {
            return Err(DemoError::InitBusy {
                dir: dir.into(),
                lock: dir.join(INIT_LOCK),
                secs: INIT_WAIT.as_secs(),
            });
        }
        std::thread::sleep(INIT_POLL);
    }
}

/// A reset deletes the lock file with everything else: refused while someone holds the lock, or
/// while the lock file cannot be read (it may be held).
fn refuse_while_locked(dir: &Path, now: Ts) -> Result<(), DemoError> {
    match read_lock(dir) {
        Ok(None) => Ok(()),
        Ok(Some(lock)) if !lock.is_held(now) || super::lock::session_is_dead(&lock.session) => {
            Ok(())
        }
        Ok(Some(lock)) => Err(DemoError::ResetWhileLocked {
            dir: dir.into(),
            holder: lock.holder,
            until: lock.expires_at.rfc3339(),
        }),
        Err(DemoError::BadLock { path, message }) => {
            Err(DemoError::ResetLockUnreadable { path, message })
        }
        Err(DemoError::Io { path, cause, .. }) => Err(DemoError::ResetLockUnreadable {
            path,
            message: cause.to_string(),
        }),
        Err(e) => Err(e),
    }
}

fn check_matches(state: &DemoState, opts: &DemoOptions) -> Result<(), DemoError> {
    let m = &state.meta;
    let asked = DemoMeta {
        scale: opts.scale.unwrap_or(m.scale),
        seed: opts.seed.unwrap_or(m.seed),
        scenario: opts.scenario.unwrap_or(m.scenario),
        ..m.clone()
    };
    if asked != *m {
        let describe = |m: &DemoMeta| {
            format!(
                "{} shops, seed {}, scenario '{}'",
                m.scale, m.seed, m.scenario
            )
        };
        return Err(DemoError::Mismatch {
            dir: state.dir.clone(),
            held: describe(m),
            asked: describe(&asked),
        });
    }
    Ok(())
}

/// What a directory without a finished demo fleet holds.
#[derive(Debug, PartialEq, Eq)]
enum Contents {
    /// Nothing, or only the lock of a creation in progress.
    Empty,
    /// A demo fleet, finished or not: only files a demo fleet consists of.
    Demo,
    /// Something else: never written to, never deleted.
    Foreign,
}

/// The names a demo directory's entries may have.
fn is_demo_entry(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let tmp_of = |file: &str| {
        Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|stem| name.starts_with(&format!("{stem}.tmp.")))
    };
    [
        STATE_FILE,
        SHOPS_FILE,
        LOCK_FILE,
        INIT_LOCK,
        super::AUDIT_FILE,
        super::lock::LOCK_MUTEX,
        super::lock::PLACEMENT_MUTEX,
        repos::GIT_DIR,
    ]
    .contains(&name)
        || [STATE_FILE, SHOPS_FILE, LOCK_FILE].into_iter().any(tmp_of)
}

fn contents(dir: &Path) -> Result<Contents, DemoError> {
    if dir.join(STATE_FILE).exists() || dir.join(INIT_LOCK).exists() {
        return Ok(Contents::Demo);
    }
    let mut found = Contents::Empty;
    for entry in fs::read_dir(dir).map_err(io("read", dir))? {
        let entry = entry.map_err(io("read", dir))?;
        if !is_demo_entry(&entry.file_name()) {
            return Ok(Contents::Foreign);
        }
        found = Contents::Demo;
    }
    Ok(found)
}

/// Creates the fleet in `opts.dir`, which must be empty apart from the creation lock; when
/// creation fails, what it wrote is removed again so that the next run starts afresh.
fn create(opts: &DemoOptions) -> Result<DemoState, DemoError> {
    let dir = &opts.dir;
    let others = fs::read_dir(dir)
        .map_err(io("read", dir))?
        .flatten()
        .filter(|e| e.file_name() != INIT_LOCK)
        .count();
    if others > 0 {
        return Err(match contents(dir)? {
            Contents::Foreign => DemoError::NotDemoDir { dir: dir.clone() },
            Contents::Empty | Contents::Demo => DemoError::Incomplete { dir: dir.clone() },
        });
    }
    let result = build(opts);
    if result.is_err() {
        remove_partial(dir);
    }
    result
}

/// Removes what a failed [`build`] may have written (and nothing else).
fn remove_partial(dir: &Path) {
    let _ = fs::remove_dir_all(dir.join(repos::GIT_DIR));
    // A failed atomic write removes its own temporary file.
    for file in [STATE_FILE, SHOPS_FILE] {
        let _ = fs::remove_file(dir.join(file));
    }
}

fn build(opts: &DemoOptions) -> Result<DemoState, DemoError> {
    let dir = &opts.dir;
    let seed = opts.seed.unwrap_or_else(|| fastrand::u64(..1_000_000));
    let scale = opts.scale.unwrap_or(DEFAULT_SCALE);
    let (topology, shops) = topology::generate(scale, seed);
    // Whole seconds, so that git commit times and the recorded creation time agree.
    let created_at = Ts::from_secs(opts.created_at.unwrap_or_else(Ts::now).secs());
    repos::create(dir, &topology, created_at).map_err(|cause| DemoError::CreateRepos {
        dir: dir.clone(),
        cause,
    })?;
    write_shops(dir, &shops)?;
    let meta = DemoMeta {
        fleet_name: "demo-fleet".into(),
        seed,
        scale,
        scenario: opts.scenario.unwrap_or(Scenario::Calm),
        created_at,
    };
    let file = StateFile {
        version: FORMAT_VERSION,
        meta,
        topology,
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| DemoError::Corrupt {
        path: dir.join(STATE_FILE),
        message: e.to_string(),
    })?;
    write_atomic(&dir.join(STATE_FILE), &json)?;
    read_state(dir)
}

fn read_state(dir: &Path) -> Result<DemoState, DemoError> {
    let path = dir.join(STATE_FILE);
    let state_mtime = mtime(&path);
    let bytes = fs::read(&path).map_err(io("read", &path))?;
    let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| DemoError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if file.version != FORMAT_VERSION {
        return Err(DemoError::Corrupt {
            path,
            message: format!(
                "format version {} is not supported (expected {FORMAT_VERSION})",
                file.version
            ),
        });
    }
    Ok(DemoState {
        dir: dir.to_path_buf(),
        meta: file.meta,
        topology: file.topology,
        state_mtime,
        shops_mtime: None,
    })
}

/// The state file again, if it changed since `state` was read.
pub fn reload_state(state: &DemoState) -> Result<Option<DemoState>, DemoError> {
    if mtime(&state.dir.join(STATE_FILE)) == state.state_mtime {
        return Ok(None);
    }
    let mut fresh = read_state(&state.dir)?;
    fresh.shops_mtime = state.shops_mtime;
    Ok(Some(fresh))
}

pub fn read_shops(dir: &Path) -> Result<Vec<Shop>, DemoError> {
    let path = dir.join(SHOPS_FILE);
    let bytes = fs::read(&path).map_err(io("read", &path))?;
    let rows: Vec<ShopRow> = serde_json::from_slice(&bytes).map_err(|e| DemoError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Shop {
            name: r.n,
            redundancy: r.r,
            shopsets: r.s,
            previous: r.p,
            version: None,
        })
        .collect())
}

/// The shops again, if `shops.json` changed since the last read.
pub fn reload_shops(state: &mut DemoState) -> Result<Option<Vec<Shop>>, DemoError> {
    let path = state.dir.join(SHOPS_FILE);
    let now = mtime(&path);
    if now == state.shops_mtime {
        return Ok(None);
    }
    let shops = read_shops(&state.dir)?;
    state.shops_mtime = now;
    Ok(Some(shops))
}

pub fn write_shops(dir: &Path, shops: &[Shop]) -> Result<(), DemoError> {
    let rows: Vec<ShopRow> = shops
        .iter()
        .map(|s| ShopRow {
            n: s.name.clone(),
            r: s.redundancy,
            s: s.shopsets.clone(),
            p: s.previous.clone(),
        })
        .collect();
    let path = dir.join(SHOPS_FILE);
    let json = serde_json::to_vec(&rows).map_err(|e| DemoError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, &json)
}

/// The operator lock file, if present.
pub fn read_lock(dir: &Path) -> Result<Option<ReleaseLock>, DemoError> {
    let path = dir.join(LOCK_FILE);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<ReleaseLock>(&bytes)
            .map(|mut l| {
                l.holder = crate::domain::printable(&l.holder);
                Some(l)
            })
            .map_err(|e| DemoError::BadLock {
                path,
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &path)(e)),
    }
}

/// Cordons or uncordons a cluster in `state.json` and sets or clears its drain id.
pub fn update_cluster(
    dir: &Path,
    cluster: &str,
    cordoned: bool,
    drain: Option<&str>,
) -> Result<(), DemoError> {
    let path = dir.join(STATE_FILE);
    let bytes = fs::read(&path).map_err(io("read", &path))?;
    let mut file: StateFile = serde_json::from_slice(&bytes).map_err(|e| DemoError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let Some(c) = file
        .topology
        .clusters
        .iter_mut()
        .find(|c| c.name == cluster)
    else {
        return Err(DemoError::Corrupt {
            path,
            message: format!("no cluster '{cluster}'"),
        });
    };
    c.cordoned = cordoned;
    c.drain = drain.map(str::to_string);
    let json = serde_json::to_vec_pretty(&file).map_err(|e| DemoError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, &json)
}
