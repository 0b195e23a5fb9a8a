//! Themes: TOML files (built-ins embedded from `themes/`), asked for semantic styles only.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use thiserror::Error;

use crate::domain::{AlertState, ComponentHealth, HealthStatus, Severity, SyncStatus};

const BUILTIN: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ThemeError {
    #[error(
        "unknown theme '{0}'; run 'shopctl themes' for the built-in names, or pass a path to a .toml file"
    )]
    Unknown(String),
    #[error("cannot read theme file '{file}': {reason}")]
    Read { file: PathBuf, reason: String },
    #[error("theme file '{file}' is not valid TOML: {reason}")]
    Syntax { file: PathBuf, reason: String },
    #[error("theme file '{file}': key '{key}' has invalid value '{value}': {reason}")]
    Value {
        file: PathBuf,
        key: String,
        value: String,
        reason: String,
    },
    #[error("theme file '{file}': unknown key '{key}' (value '{value}'); valid keys: {valid}")]
    UnknownKey {
        file: PathBuf,
        key: String,
        value: String,
        valid: String,
    },
}

/// A parsed theme. Views never pick colours; they ask for what a thing *means*.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    colour: bool,
    bold_states: bool,
    fg: Color,
    bg: Color,
    muted: Color,
    title: Color,
    title_focused: Color,
    border: Color,
    border_focused: Color,
    selection_fg: Color,
    selection_bg: Color,
    related: Color,
    key: Color,
    header_fg: Color,
    header_bg: Color,
    ok: Color,
    warn: Color,
    danger: Color,
    progress: Color,
    unknown: Color,
    info: Color,
}

const SECTIONS: [(&str, &[&str]); 3] = [
    ("base", &["fg", "bg", "muted"]),
    (
        "ui",
        &[
            "title",
            "title_focused",
            "border",
            "border_focused",
            "selection_fg",
            "selection_bg",
            "related",
            "key",
            "header_fg",
            "header_bg",
        ],
    ),
    (
        "state",
        &["ok", "warn", "danger", "progress", "unknown", "info"],
    ),
];
const TOP_LEVEL: [&str; 3] = ["description", "colour", "bold_states"];

/// Built-in theme names with their one-line descriptions.
/// `shopctl themes`: the built-in themes and where others come from.
pub fn listing() -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (name, about) in builtin_names() {
        let _ = writeln!(s, "{name:<14} {about}");
    }
    let _ = writeln!(
        s,
        "\n--theme also takes a path to a TOML theme file (see themes/ in the source for the keys)."
    );
    s
}

pub fn builtin_names() -> Vec<(&'static str, String)> {
    BUILTIN
        .iter()
        .map(|(name, src)| {
            let about = toml::from_str::<toml::Table>(src)
                .ok()
                .and_then(|t| {
                    t.get("description")
                        .and_then(|d| d.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            (*name, about)
        })
        .collect()
}

impl Theme {
    /// A built-in theme by name, or a theme file when `name` looks like a path.
    pub fn load(name: &str) -> Result<Theme, ThemeError> {
        if let Some((n, src)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Theme::parse(n, Path::new(&format!("themes/{n}.toml")), src);
        }
        let looks_like_path = name.contains('/') || name.ends_with(".toml");
        if !looks_like_path {
            return Err(ThemeError::Unknown(name.to_string()));
        }
        let path = PathBuf::from(name);
        let src =
            crate::ops::atomic::read_text_file(&path, 1 << 20).map_err(|e| ThemeError::Read {
                file: path.clone(),
                reason: e.to_string(),
            })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Theme::parse(&stem, &path, &src)
    }

    /// The theme to use: an explicit `--theme` wins; otherwise `NO_COLOR` selects `mono`.
    pub fn choose(explicit: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
        match explicit {
            Some(name) => Theme::load(name),
            None if no_color => Theme::load("mono"),
            None => Theme::load("default"),
        }
    }

    pub fn parse(name: &str, file: &Path, src: &str) -> Result<Theme, ThemeError> {
        let table: toml::Table = toml::from_str(src).map_err(|e| ThemeError::Syntax {
            file: file.into(),
            reason: e.message().to_string(),
        })?;
        let mut t = Theme::fallback(name);
        let value_err = |key: &str, value: &toml::Value, reason: &str| ThemeError::Value {
            file: file.into(),
            key: key.into(),
            value: display_value(value),
            reason: reason.into(),
        };
        for (key, value) in &table {
            match key.as_str() {
                "description" => {
                    value
                        .as_str()
                        .ok_or_else(|| value_err(key, value, "expected a string"))?;
                }
                "colour" | "bold_states" => {
                    let b = value
                        .as_bool()
                        .ok_or_else(|| value_err(key, value, "expected true or false"))?;
                    if key == "colour" {
                        t.colour = b;
                    } else {
                        t.bold_states = b;
                    }
                }
                section => {
                    let Some((_, keys)) = SECTIONS.iter().find(|(s, _)| *s == section) else {
                        return Err(unknown_key(file, key, value, &valid_top_level()));
                    };
                    let Some(inner) = value.as_table() else {
                        return Err(value_err(key, value, "expected a [section] of colours"));
                    };
                    for (k, v) in inner {
                        let full = format!("{section}.{k}");
                        if !keys.contains(&k.as_str()) {
                            let valid = keys
                                .iter()
                                .map(|k| format!("{section}.{k}"))
                                .collect::<Vec<_>>()
                                .join(", ");
                            return Err(unknown_key(file, &full, v, &valid));
                        }
                        let colour = match v {
                            toml::Value::String(s) => parse_colour(s),
                            toml::Value::Integer(n) => u8::try_from(*n).ok().map(Color::Indexed),
                            _ => None,
                        }
                        .ok_or_else(|| {
                            value_err(&full, v, "expected a colour name (e.g. 'red', 'lightcyan'), '#rrggbb' or 0-255")
                        })?;
                        *t.slot(section, k) = colour;
                    }
                }
            }
        }
        Ok(t)
    }

    /// Colours of the default theme; every key a file leaves out keeps these.
    fn fallback(name: &str) -> Theme {
        Theme {
            name: name.to_string(),
            colour: true,
            bold_states: false,
            fg: Color::Reset,
            bg: Color::Reset,
            muted: Color::DarkGray,
            title: Color::White,
            title_focused: Color::LightCyan,
            border: Color::DarkGray,
            border_focused: Color::Cyan,
            selection_fg: Color::Black,
            selection_bg: Color::Cyan,
            related: Color::LightYellow,
            key: Color::LightCyan,
            header_fg: Color::Black,
            header_bg: Color::Gray,
            ok: Color::Green,
            warn: Color::Yellow,
            danger: Color::LightRed,
            progress: Color::LightBlue,
            unknown: Color::Magenta,
            info: Color::Cyan,
        }
    }

    fn slot(&mut self, section: &str, key: &str) -> &mut Color {
        match (section, key) {
            ("base", "fg") => &mut self.fg,
            ("base", "bg") => &mut self.bg,
            ("base", "muted") => &mut self.muted,
            ("ui", "title") => &mut self.title,
            ("ui", "title_focused") => &mut self.title_focused,
            ("ui", "border") => &mut self.border,
            ("ui", "border_focused") => &mut self.border_focused,
            ("ui", "selection_fg") => &mut self.selection_fg,
            ("ui", "selection_bg") => &mut self.selection_bg,
            ("ui", "related") => &mut self.related,
            ("ui", "key") => &mut self.key,
            ("ui", "header_fg") => &mut self.header_fg,
            ("ui", "header_bg") => &mut self.header_bg,
            ("state", "ok") => &mut self.ok,
            ("state", "warn") => &mut self.warn,
            ("state", "danger") => &mut self.danger,
            ("state", "progress") => &mut self.progress,
            ("state", "unknown") => &mut self.unknown,
            _ => &mut self.info,
        }
    }

    /// Whether the theme sets its own foreground or background (else the terminal's show through).
    pub fn paints_background(&self) -> bool {
        self.colour && (self.fg != Color::Reset || self.bg != Color::Reset)
    }

    pub fn has_colour(&self) -> bool {
        self.colour
    }

    fn fg_style(&self, c: Color) -> Style {
        if self.colour {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    fn state(&self, c: Color, mono: Modifier) -> Style {
        if self.colour {
            let s = Style::new().fg(c);
            if self.bold_states {
                s.add_modifier(Modifier::BOLD)
            } else {
                s
            }
        } else {
            Style::new().add_modifier(mono)
        }
    }

    pub fn base(&self) -> Style {
        if self.colour {
            Style::new().fg(self.fg).bg(self.bg)
        } else {
            Style::new()
        }
    }
    pub fn muted(&self) -> Style {
        if self.colour {
            Style::new().fg(self.muted)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    pub fn title(&self, focused: bool) -> Style {
        let s = self.fg_style(if focused {
            self.title_focused
        } else {
            self.title
        });
        if focused {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
    pub fn border(&self, focused: bool) -> Style {
        if self.colour {
            Style::new().fg(if focused {
                self.border_focused
            } else {
                self.border
            })
        } else if focused {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    pub fn selected(&self) -> Style {
        if self.colour {
            Style::new()
                .fg(self.selection_fg)
                .bg(self.selection_bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }
    /// Rows related to the selection in another pane (same cluster or tier).
    pub fn related(&self) -> Style {
        if self.colour {
            Style::new().fg(self.related)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }
    pub fn key(&self) -> Style {
        self.fg_style(self.key).add_modifier(Modifier::BOLD)
    }
    pub fn header(&self) -> Style {
        if self.colour {
            Style::new().fg(self.header_fg).bg(self.header_bg)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    pub fn ok(&self) -> Style {
        self.state(self.ok, Modifier::empty())
    }
    pub fn warn(&self) -> Style {
        self.state(self.warn, Modifier::BOLD)
    }
    pub fn danger(&self) -> Style {
        self.state(self.danger, Modifier::BOLD | Modifier::REVERSED)
            .add_modifier(Modifier::BOLD)
    }
    pub fn progress(&self) -> Style {
        self.state(self.progress, Modifier::ITALIC)
    }
    pub fn unknown(&self) -> Style {
        self.state(self.unknown, Modifier::DIM)
    }
    pub fn info(&self) -> Style {
        self.state(self.info, Modifier::empty())
    }

    pub fn sync(&self, s: SyncStatus) -> Style {
        match s {
            SyncStatus::Synced => self.ok(),
            SyncStatus::OutOfSync => self.warn(),
            SyncStatus::Unknown => self.unknown(),
        }
    }
    pub fn health(&self, h: HealthStatus) -> Style {
        match h {
            HealthStatus::Healthy => self.ok(),
            HealthStatus::Progressing => self.progress(),
            HealthStatus::Degraded | HealthStatus::Missing => self.danger(),
            HealthStatus::Suspended => self.warn(),
            HealthStatus::Unknown => self.unknown(),
        }
    }
    pub fn component(&self, c: ComponentHealth) -> Style {
        match c {
            ComponentHealth::Up => self.ok(),
            ComponentHealth::Progressing => self.progress(),
            ComponentHealth::Degraded => self.warn(),
            ComponentHealth::Down => self.danger(),
            ComponentHealth::Unknown => self.unknown(),
        }
    }
    pub fn severity(&self, s: Severity, state: AlertState) -> Style {
        if state == AlertState::Suppressed {
            return self.muted();
        }
        match s {
            Severity::Critical => self.danger(),
            Severity::Warning => self.warn(),
            Severity::Info => self.info(),
        }
    }
}

fn unknown_key(file: &Path, key: &str, value: &toml::Value, valid: &str) -> ThemeError {
    ThemeError::UnknownKey {
        file: file.into(),
        key: key.into(),
        value: display_value(value),
        valid: valid.into(),
    }
}

fn valid_top_level() -> String {
    let mut v: Vec<String> = TOP_LEVEL.iter().map(|s| s.to_string()).collect();
    v.extend(SECTIONS.iter().map(|(s, _)| format!("[{s}]")));
    v.join(", ")
}

fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(_) => "[table]".into(),
        other => other.to_string(),
    }
}

fn parse_colour(s: &str) -> Option<Color> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u8>() {
        return Some(Color::Indexed(n));
    }
    if t.starts_with('#') && t.len() != 7 {
        return None;
    }
    Color::from_str(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for (name, _) in builtin_names() {
            let t = Theme::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.name, name);
        }
        assert!(!Theme::load("mono").map(|t| t.has_colour()).unwrap_or(true));
    }

    #[test]
    fn no_color_picks_mono_unless_a_theme_is_explicit() {
        assert_eq!(
            Theme::choose(None, true).map(|t| t.name),
            Ok("mono".to_string())
        );
        assert_eq!(
            Theme::choose(Some("light"), true).map(|t| t.name),
            Ok("light".to_string())
        );
        assert_eq!(
            Theme::choose(None, false).map(|t| t.name),
            Ok("default".to_string())
        );
    }

    #[test]
    fn errors_name_file_key_and_value() {
        let f = Path::new("x.toml");
        let e = Theme::parse("x", f, "[state]\ndanger = \"blurple\"\n").unwrap_err();
        assert!(
            matches!(&e, ThemeError::Value { key, value, .. } if key == "state.danger" && value == "blurple"),
            "{e}"
        );
        let e = Theme::parse("x", f, "[state]\ndangr = \"red\"\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown key 'state.dangr' (value 'red')"),
            "{e}"
        );
        let e = Theme::parse("x", f, "colour = \"yes\"\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("key 'colour' has invalid value 'yes'"),
            "{e}"
        );
        let e = Theme::parse("x", f, "[state\n").unwrap_err();
        assert!(e.to_string().contains("'x.toml' is not valid TOML"), "{e}");
        assert!(Theme::parse("x", f, "[ui]\nkey = \"#12345\"\n").is_err());
        assert!(Theme::parse("x", f, "[ui]\nkey = \"#123456\"\n").is_ok());
        let e = Theme::parse("x", f, "[ui]\nkey = 256\n").unwrap_err();
        assert!(
            e.to_string().contains("'ui.key' has invalid value '256'"),
            "{e}"
        );
        assert!(Theme::parse("x", f, "[base]\nfg = -1\n").is_err());
    }

    #[test]
    fn a_colour_index_may_be_an_integer_or_a_string() {
        let f = Path::new("x.toml");
        let t = Theme::parse("x", f, "[base]\nfg = 5\nbg = \"255\"\nmuted = 0\n").unwrap();
        assert_eq!(
            (t.fg, t.bg, t.muted),
            (Color::Indexed(5), Color::Indexed(255), Color::Indexed(0))
        );
    }
}
