//! The documentation holds together: every relative link in README.md, recordings/README.md and
//! docs/*.md leads to a file that exists, every `#anchor` to a heading of the file it names, and
//! the README stays short enough to read in five minutes.
//!
//! Links inside fenced code blocks and inline code spans are not links and are not checked; links
//! to `http://`, `https://` and `mailto:` are not followed. Anchors are made from headings as
//! GitHub makes them.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The README's limit, in bytes.
const README_MAX_BYTES: u64 = 12_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The anchor GitHub gives a heading: lowercase; everything but letters, digits, spaces, `-` and
/// `_` removed (backticks and other punctuation included); each space a `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The file's lines with every fenced code block (its fences included) blanked, so line numbers
/// stay those of the file.
fn blank_fences(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut fence: Option<&str> = None;
    for line in text.split('\n') {
        let t = line.trim_start_matches(' ');
        match fence {
            Some(marker) => {
                if t.starts_with(marker) {
                    fence = None;
                }
                lines.push(String::new());
            }
            None if t.starts_with("```") => {
                fence = Some("```");
                lines.push(String::new());
            }
            None if t.starts_with("~~~") => {
                fence = Some("~~~");
                lines.push(String::new());
            }
            None => lines.push(line.to_string()),
        }
    }
    lines
}

/// The text of an ATX heading (`## Title`), without its closing `#`s; `None` for other lines.
fn heading_text(line: &str) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let mut text = rest.trim();
    if text.ends_with('#') {
        let t = text.trim_end_matches('#');
        if t.is_empty() || t.ends_with(' ') {
            text = t.trim_end();
        }
    }
    Some(text)
}

/// Every anchor the file's headings make, in order; a repeated heading gets `-1`, `-2`, ….
fn anchors_of(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut anchors = Vec::new();
    for line in blank_fences(text) {
        let Some(heading) = heading_text(&line) else {
            continue;
        };
        let base = anchor(heading);
        let count = seen.entry(base.clone()).or_insert(0);
        let id = if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        };
        *count += 1;
        anchors.push(id);
    }
    anchors
}

/// Whether the line starting at `k` is blank (or the text ends there).
fn blank_line_follows(chars: &[char], mut k: usize) -> bool {
    while k < chars.len() && (chars[k] == ' ' || chars[k] == '\t') {
        k += 1;
    }
    k == chars.len() || chars[k] == '\n'
}

/// The text with every inline code span (its backticks included) blanked, newlines kept. A span
/// closes at the next run of as many backticks, within its paragraph; a run that is never closed
/// is literal text.
fn strip_code_spans(chars: &[char]) -> Vec<char> {
    let mut out = chars.to_vec();
    let n = chars.len();
    let mut i = 0;
    while i < n {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let start = i;
        let mut run = 0;
        while i < n && chars[i] == '`' {
            run += 1;
            i += 1;
        }
        let mut j = i;
        let mut end = None;
        while j < n {
            if chars[j] == '\n' && blank_line_follows(chars, j + 1) {
                break;
            }
            if chars[j] == '`' {
                let mut r = 0;
                while j < n && chars[j] == '`' {
                    r += 1;
                    j += 1;
                }
                if r == run {
                    end = Some(j);
                    break;
                }
                continue;
            }
            j += 1;
        }
        if let Some(end) = end {
            for c in &mut out[start..end] {
                if *c != '\n' {
                    *c = ' ';
                }
            }
            i = end;
        }
    }
    out
}

/// `(line, destination)` of every inline link and image (`[text](dest "title")`, `![alt](dest)`,
/// `[text](<dest>)`) and every reference definition (`[label]: dest`) outside code.
fn links_in(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = blank_fences(text).join("\n").chars().collect();
    let chars = strip_code_spans(&chars);
    let n = chars.len();
    let mut found = Vec::new();
    let mut line = 1;
    for i in 0..n {
        if chars[i] == '\n' {
            line += 1;
            continue;
        }
        if !(chars[i] == ']' && i + 1 < n && chars[i + 1] == '(') {
            continue;
        }
        let mut j = i + 2;
        while j < n && matches!(chars[j], ' ' | '\t' | '\n') {
            j += 1;
        }
        let mut dest = String::new();
        if j < n && chars[j] == '<' {
            j += 1;
            while j < n && chars[j] != '>' && chars[j] != '\n' {
                dest.push(chars[j]);
                j += 1;
            }
        } else {
            let mut depth = 0usize;
            while j < n {
                let d = chars[j];
                if matches!(d, ' ' | '\t' | '\n') {
                    break;
                }
                if d == '(' {
                    depth += 1;
                } else if d == ')' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                dest.push(d);
                j += 1;
            }
        }
        found.push((line, dest));
    }
    let stripped: String = chars.iter().collect();
    for (index, l) in stripped.split('\n').enumerate() {
        let t = l.trim_start_matches(' ');
        if l.len() - t.len() > 3 || !t.starts_with('[') || t.starts_with("[^") {
            continue;
        }
        let Some(close) = t.find(']') else {
            continue;
        };
        if close < 2 || !t[close + 1..].starts_with(':') {
            continue;
        }
        if let Some(dest) = t[close + 2..].split_whitespace().next() {
            let dest = dest
                .strip_prefix('<')
                .and_then(|d| d.strip_suffix('>'))
                .unwrap_or(dest);
            found.push((index + 1, dest.to_string()));
        }
    }
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What is wrong with each link of the file, as `file:line -> destination (why)`.
fn broken_links(file: &Path) -> Vec<String> {
    let text = read(file);
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut broken = Vec::new();
    for (line, dest) in links_in(&text) {
        let at = format!("{}:{line} -> {dest}", relative(file));
        let lower = dest.to_lowercase();
        if ["http://", "https://", "mailto:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
        {
            continue;
        }
        if dest.is_empty() {
            broken.push(format!("{at} (empty link target)"));
            continue;
        }
        let (path, fragment) = match dest.split_once('#') {
            Some((p, f)) => (p, f),
            None => (dest.as_str(), ""),
        };
        let path = path.split('?').next().unwrap_or(path);
        let target = if path.is_empty() {
            file.to_path_buf()
        } else if let Some(from_root) = path.strip_prefix('/') {
            root().join(from_root)
        } else {
            dir.join(path)
        };
        if !target.exists() {
            broken.push(format!("{at} (no such file: {})", relative(&target)));
            continue;
        }
        if fragment.is_empty() {
            continue;
        }
        let markdown = target.is_file()
            && target
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if !markdown {
            broken.push(format!(
                "{at} (an anchor into {}, which is not a markdown file)",
                relative(&target)
            ));
            continue;
        }
        if !anchors_of(&read(&target))
            .iter()
            .any(|a| a.as_str() == fragment)
        {
            broken.push(format!(
                "{at} (no heading of {} makes #{fragment})",
                relative(&target)
            ));
        }
    }
    broken
}

/// docs/*.md, sorted.
fn doc_files() -> Vec<PathBuf> {
    let dir = root().join("docs");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")))
        .collect();
    files.sort();
    files
}

#[test]
fn every_link_of_the_documentation_resolves() {
    let docs = doc_files();
    assert!(
        !docs.is_empty(),
        "docs/ holds no .md file: the documentation has gone missing"
    );
    let mut files = vec![
        root().join("README.md"),
        root().join("recordings/README.md"),
    ];
    files.extend(docs);
    let mut links = 0;
    let mut broken = Vec::new();
    for file in &files {
        links += links_in(&read(file)).len();
        broken.extend(broken_links(file));
    }
    assert!(links > 0, "no link found in {} files", files.len());
    assert!(
        broken.is_empty(),
        "{} broken link(s) among {links} in {} files:\n  {}",
        broken.len(),
        files.len(),
        broken.join("\n  ")
    );
}

#[test]
fn the_readme_is_short() {
    let readme = root().join("README.md");
    let size = fs::metadata(&readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()))
        .len();
    assert!(
        size <= README_MAX_BYTES,
        "README.md is {size} bytes, more than {README_MAX_BYTES}: move reference material into docs/"
    );
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor("`shopctl status -o json`"), "shopctl-status--o-json");
    assert_eq!(anchor("Rebinding keys: `[keys]`"), "rebinding-keys-keys");
    assert_eq!(
        anchor("The shopset.dev resources: `shopctl crds`"),
        "the-shopsetdev-resources-shopctl-crds"
    );
    assert_eq!(
        anchor("The release watcher: automatic rollback"),
        "the-release-watcher-automatic-rollback"
    );
    assert_eq!(
        anchor("snake_case and Two-person"),
        "snake_case-and-two-person"
    );
    assert_eq!(heading_text("## Closed ##"), Some("Closed"));
    assert_eq!(heading_text("#hashtag"), None);
    assert_eq!(heading_text("####### seven"), None);
}

#[test]
fn repeated_headings_are_numbered_and_code_is_no_heading() {
    let text = "# A\n## A\n```sh\n# A comment\n```\n### A\n## B";
    assert_eq!(anchors_of(text), ["a", "a-1", "a-2", "b"]);
}

#[test]
fn links_are_found_outside_code_only() {
    let text = "# T\n\
                see [a](x.md \"title\"), ![img](pic.png), <http://x.y> and `[no](code.md)`\n\
                ```\n\
                [no](fenced.md)\n\
                ```\n\
                [ref]: other.md#sec\n\
                [^1]: a footnote\n\
                text [two\n\
                lines](y.md#z) ``code with ` tick`` [after](<w.md>)\n";
    let mut links = links_in(text);
    links.sort();
    let expected: Vec<(usize, String)> = vec![
        (2, "pic.png".to_string()),
        (2, "x.md".to_string()),
        (6, "other.md#sec".to_string()),
        (9, "w.md".to_string()),
        (9, "y.md#z".to_string()),
    ];
    assert_eq!(links, expected);
}
