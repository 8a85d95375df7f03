//! The code a prediction runs, drawn by the code pane's own widget under a caption: from its
//! variant's function while the learner guesses, and after the reveal with every line its run's
//! spawns and marks point at marked (▶).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use crate::app::CodeMarks;
use crate::app::practice_screen::ShownCode;
use crate::demo::asyncio::Runtime;
use crate::text::sanitize;
use crate::ui::code_pane::CodePane;
use crate::ui::theme::Theme;

/// Marked lines the caption names; the rest are counted.
const NAMED_LINES: usize = 8;

/// The row over the code: which function of which file, or once the run is in, which lines it
/// points at first (a long file name gives way on a narrow screen). `moving`: ↑/↓ move through
/// the code (no run shown yet).
fn caption<'a>(code: &ShownCode, moving: bool, t: &Theme) -> Line<'a> {
    let c = &code.code;
    let file = match c.runtime {
        Runtime::Tokio => c.source.short_name().to_owned(),
        Runtime::Asyncio => format!("{} (asyncio twin)", c.source.short_name()),
    };
    let file = sanitize(&file).into_owned();
    let (head, parts) = match (&code.marked, &c.function) {
        (Some(lines), _) if lines.is_empty() => (
            "The code that ran",
            vec![
                file,
                "no spawn or mark of the run points into it".to_owned(),
            ],
        ),
        (Some(lines), _) => {
            let mut named: Vec<String> = lines
                .iter()
                .take(NAMED_LINES)
                .map(ToString::to_string)
                .collect();
            if lines.len() > NAMED_LINES {
                named.push(format!("{} more", lines.len() - NAMED_LINES));
            }
            let marked = format!("▶ spawned or marked at lines {}", named.join(", "));
            ("The code that ran", vec![marked, file])
        }
        (None, Some(f)) => (
            "The code that runs",
            vec![
                file,
                format!("{}, lines {}–{}", sanitize(&f.name), f.line, f.last),
            ],
        ),
        (None, None) => (
            "The code that runs",
            vec![
                file,
                format!(
                    "no one function runs {}: the whole file",
                    sanitize(&c.variant)
                ),
            ],
        ),
    };
    let mut spans = vec![
        Span::styled(head, t.strong),
        Span::styled(format!(" · {}", parts.join(" · ")), t.base),
    ];
    if moving {
        spans.push(Span::styled(" · ↑/↓ move", t.dim));
    }
    Line::from(spans)
}

/// The caption, then the code from the function's first line, the cursor kept in view.
pub(super) fn draw_code(code: &ShownCode, moving: bool, area: Rect, buf: &mut Buffer, t: &Theme) {
    if area.height == 0 {
        return;
    }
    Paragraph::new(caption(code, moving, t)).render(Rect { height: 1, ..area }, buf);
    let lines = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    let source = code.code.source;
    // From the function's first line, unless that leaves rows empty at the end of the file: a
    // view with room for more shows the lines above it too (the helpers it calls, often).
    let scroll = (code.code.first_line().saturating_sub(1) as usize).min(
        source
            .line_count()
            .saturating_sub(usize::from(lines.height)),
    );
    let none = CodeMarks::default();
    // After the reveal the view keeps a marked line in sight: the function's first, else the
    // file's first (the run may point only at helpers); before it, the cursor.
    let in_function = |l: &&u32| {
        code.code
            .function
            .as_ref()
            .is_none_or(|f| (f.first..=f.last).contains(*l))
    };
    let follow = code
        .marked
        .as_ref()
        .and_then(|lines| lines.iter().find(in_function).or(lines.first()).copied())
        .unwrap_or(code.cursor);
    (&CodePane {
        code: &source.text,
        language: source.language,
        scroll,
        marks: &none,
        marked: code.marked.as_deref().unwrap_or_default(),
        cursor: Some(code.cursor),
        follow: Some(follow),
        theme: t,
    })
        .render(lines, buf);
}
