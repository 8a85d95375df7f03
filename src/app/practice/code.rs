//! The code a predict item runs, found in the source that runs it: the demo's shown file for a
//! tokio item, its asyncio twin for an asyncio one (what you read is what runs).
//!
//! Which lines are "the variant's function", in this order (the first rule that finds one wins):
//! 1. a twin's dispatch: the `case "<variant>":` (or `if variant == "<variant>":`) branch, and
//!    in it the first call of a function the file defines: that function; with no such call, the
//!    branch itself;
//! 2. a function named after the variant: `join-all` → `fn join_all` / `def join_all`;
//! 3. a type named after it: `sliding-window` → `struct SlidingWindow` / `class SlidingWindow`;
//! 4. the one function whose name holds the variant's words together (`await` → `await_later`,
//!    `abort` → `spawn_then_abort`);
//! 5. the one function whose name shares a word with it (`deadline-set` → `one_deadline`);
//! 6. the file's entry: its one `pub async fn` (what the demo calls), a twin's `main`;
//! 7. none: the whole file, from the top.
//!
//! Lines are found by their text, as rustfmt and black-style code lays it out: an item runs from
//! its doc comments (decorators, attributes) to its last line indented under it, a closing `}`
//! at its own indent included.

use crate::demo::asyncio::Runtime;
use crate::demo::source::{self, Source};
use crate::lesson::{Language, PredictItem};

/// The code a predict item runs, and where its variant's function is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantCode {
    pub demo: &'static str,
    /// The runtime whose source this is (tokio when the demo has no twin).
    pub runtime: Runtime,
    /// The variant that runs: the item's, else the demo's first default.
    pub variant: String,
    pub source: &'static Source,
    /// `None`: no rule found it, the whole file is the answer.
    pub function: Option<CodeSpan>,
}

impl VariantCode {
    /// The first line to show (1-based): the function's doc comment, else the top of the file.
    pub fn first_line(&self) -> u32 {
        self.function.as_ref().map_or(1, |f| f.first)
    }

    /// The line the cursor starts on: the function's definition, else the first line.
    pub fn start_line(&self) -> u32 {
        self.function.as_ref().map_or(1, |f| f.line)
    }
}

/// An item of a source file, by its lines (1-based, inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSpan {
    /// `join_all`, `SlidingWindow`, or the branch's text (`case "timeout":`).
    pub name: String,
    /// Its first line, doc comments and attributes included.
    pub first: u32,
    /// The line that defines it (`pub async fn join_all(`).
    pub line: u32,
    pub last: u32,
}

/// The code `item` runs on `runtime` (the twin for asyncio, the shown file for tokio, or the
/// shown file when the demo has no twin), with its variant's function found.
pub fn variant_code(item: &PredictItem, runtime: Runtime) -> Option<VariantCode> {
    let spec = crate::demo::find(&item.demo)?.spec();
    let (runtime, source) = match source::of_run(spec.id, runtime) {
        Some(s) => (runtime, s),
        None => (Runtime::Tokio, source::shown(spec.id)?),
    };
    let variant = item
        .variant
        .clone()
        .or_else(|| spec.default_variants.first().map(|v| (*v).to_owned()))
        .unwrap_or_default();
    Some(VariantCode {
        demo: spec.id,
        runtime,
        function: variant_function(source, &variant),
        variant,
        source,
    })
}

/// What a definition defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Function,
    Type,
}

#[derive(Debug, Clone)]
struct Def<'a> {
    kind: Kind,
    name: &'a str,
    /// 0-based.
    index: usize,
    public_async: bool,
}

/// The variant's function in `source` (see the module's rules); `None`: the whole file.
pub fn variant_function(source: &Source, variant: &str) -> Option<CodeSpan> {
    let lines: Vec<&str> = source.text.lines().collect();
    let python = source.language == Language::Python;
    let defs: Vec<Def> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| definition(l, python, i))
        .collect();
    let functions = || defs.iter().filter(|d| d.kind == Kind::Function);
    let span = |d: &Def| span_of(&lines, d.index, d.name, python);
    let words: Vec<&str> = variant.split('-').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    if python && let Some(found) = dispatch(&lines, &defs, variant) {
        return Some(found);
    }
    let snake = words.join("_");
    if let Some(d) = functions().find(|d| d.name == snake) {
        return Some(span(d));
    }
    let camel: String = words.iter().map(|w| capitalized(w)).collect();
    if let Some(d) = defs
        .iter()
        .find(|d| d.kind == Kind::Type && d.name == camel)
    {
        return Some(span(d));
    }
    let holds_all = |d: &&Def| {
        let name: Vec<&str> = d.name.split('_').collect();
        name.windows(words.len()).any(|w| w == words.as_slice())
    };
    let shares = |d: &&Def| d.name.split('_').any(|w| words.contains(&w));
    for rule in [&holds_all as &dyn Fn(&&Def) -> bool, &shares] {
        let mut found = functions().filter(rule);
        if let (Some(d), None) = (found.next(), found.next()) {
            return Some(span(d));
        }
    }
    let entry: Vec<&Def> = if python {
        functions().filter(|d| d.name == "main").collect()
    } else {
        functions().filter(|d| d.public_async).collect()
    };
    match entry.as_slice() {
        [d] => Some(span(d)),
        _ => None,
    }
}

/// `join` → `Join`.
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// A line that defines a function or a type, and its name.
fn definition(line: &str, python: bool, index: usize) -> Option<Def<'_>> {
    let mut tokens = line.split_whitespace().peekable();
    let mut public = false;
    let mut asynchronous = false;
    while let Some(&t) = tokens.peek() {
        match t {
            "pub" | "pub(crate)" | "pub(super)" => public = true,
            "async" => asynchronous = true,
            "const" | "unsafe" => {}
            _ => break,
        }
        tokens.next();
    }
    let kind = match (tokens.next()?, python) {
        ("fn", false) | ("def", true) => Kind::Function,
        ("struct" | "enum" | "trait" | "type", false) | ("class", true) => Kind::Type,
        _ => return None,
    };
    let rest = tokens.next()?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let name = &rest[..end];
    (!name.is_empty()).then_some(Def {
        kind,
        name,
        index,
        public_async: public && asynchronous && indent(line) == 0,
    })
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The item defined at `index`: from the comments, attributes and decorators right above it to
/// its last line indented under it (a closing `}` at its indent included).
fn span_of(lines: &[&str], index: usize, name: &str, python: bool) -> CodeSpan {
    let own = indent(lines[index]);
    let mut first = index;
    while let Some(above) = first.checked_sub(1).map(|i| lines[i]) {
        let t = above.trim_start();
        let leads = if python {
            t.starts_with('@') || t.starts_with('#')
        } else {
            t.starts_with("//") || t.starts_with("#[")
        };
        if !leads || indent(above) != own {
            break;
        }
        first -= 1;
    }
    let mut last = index;
    for (i, l) in lines.iter().enumerate().skip(index + 1) {
        let t = l.trim_start();
        if t.is_empty() {
            continue;
        }
        if indent(l) > own || t.starts_with(')') || t.starts_with(']') {
            last = i;
            continue;
        }
        if t.starts_with('}') {
            last = i;
        }
        break;
    }
    CodeSpan {
        name: name.to_owned(),
        first: first as u32 + 1,
        line: index as u32 + 1,
        last: last as u32 + 1,
    }
}

/// A twin's branch for `variant` and the first function of the file it calls.
fn dispatch(lines: &[&str], defs: &[Def], variant: &str) -> Option<CodeSpan> {
    let quoted = [format!("\"{variant}\""), format!("'{variant}'")];
    let index = lines.iter().position(|l| {
        let t = l.trim();
        let branch = t.starts_with("case ")
            || ((t.starts_with("if ") || t.starts_with("elif ")) && t.contains("variant"));
        branch && t.ends_with(':') && quoted.iter().any(|q| t.contains(q.as_str()))
    })?;
    let own = indent(lines[index]);
    let body = lines[index + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > own);
    for line in body {
        let called = calls(line).find_map(|name| {
            defs.iter()
                .find(|d| d.kind == Kind::Function && d.name == name)
        });
        if let Some(d) = called {
            return Some(span_of(lines, d.index, d.name, true));
        }
    }
    let branch = span_of(lines, index, lines[index].trim(), true);
    Some(branch)
}

/// The names called on `line`: identifiers followed by `(`.
fn calls(line: &str) -> impl Iterator<Item = &str> {
    let code = line.split('#').next().unwrap_or("");
    code.match_indices('(').filter_map(move |(at, _)| {
        let before = &code[..at];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &before[start..];
        // A method (`dojo.lane(`) is not a function of this file.
        let method = before[..start].ends_with('.');
        (!name.is_empty() && !method).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(text: &str) -> Source {
        Source::new("shown.rs", Language::Rust, text)
    }

    fn python(text: &str) -> Source {
        Source::new("twin.py", Language::Python, text)
    }

    #[test]
    fn a_function_spans_its_doc_comment_to_its_closing_brace() {
        let s = rust(
            "use x;\n\n/// Does it.\n#[inline]\npub async fn join_all(\n    a: u32,\n) -> u32 {\n    a\n}\n\nfn other() {}\n",
        );
        let f = variant_function(&s, "join-all").expect("found");
        assert_eq!((f.first, f.line, f.last), (3, 5, 9));
        assert_eq!(f.name, "join_all");
    }

    #[test]
    fn a_python_function_ends_where_its_indentation_does() {
        let s = python(
            "import x\n\n\n@deco\nasync def join_all(a):\n    b = a\n\n    return b\n\n\nasync def main(variant):\n    pass\n",
        );
        let f = variant_function(&s, "join-all").expect("found");
        assert_eq!((f.first, f.line, f.last), (4, 5, 8));
    }

    #[test]
    fn a_twins_dispatch_leads_to_the_function_it_calls() {
        let s = python(concat!(
            "async def spawn_then_cancel(ms):\n    pass\n\n",
            "async def abort(ms):\n    pass\n\n",
            "async def main(variant):\n    match variant:\n        case \"abort\":\n",
            "            await dojo.lane(\"x\", spawn_then_cancel(1))\n",
        ));
        let f = variant_function(&s, "abort").expect("found");
        assert_eq!(
            f.name, "spawn_then_cancel",
            "the dispatch wins over the name"
        );
        assert_eq!(f.line, 1);
    }

    #[test]
    fn a_branch_that_calls_nothing_of_the_file_is_itself_the_answer() {
        let s = python("async def main(variant):\n    if variant == \"x\":\n        print(1)\n");
        let f = variant_function(&s, "x").expect("found");
        assert_eq!((f.line, f.last), (2, 3));
        assert_eq!(f.name, "if variant == \"x\":");
    }

    #[test]
    fn a_name_found_twice_by_words_is_no_answer() {
        let s = rust("pub fn one_set() {}\npub fn set_two() {}\n");
        assert_eq!(
            variant_function(&s, "set"),
            None,
            "two candidates, none chosen"
        );
    }

    #[test]
    fn types_words_and_the_entry_are_found_in_that_order() {
        let s = rust(
            "struct SlidingWindow {\n    a: u8,\n}\n\nasync fn await_later() {\n}\n\npub async fn run() {\n}\n",
        );
        assert_eq!(
            variant_function(&s, "sliding-window").map(|f| f.name),
            Some("SlidingWindow".into())
        );
        assert_eq!(
            variant_function(&s, "await").map(|f| f.name),
            Some("await_later".into())
        );
        assert_eq!(
            variant_function(&s, "fifo").map(|f| f.name),
            Some("run".into())
        );
    }
}
