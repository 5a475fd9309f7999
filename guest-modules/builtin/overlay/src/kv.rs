//! The key/value pairs of one generator, read as kustomize's kv loader (api/kv) reads them:
//! env files first, then literals, then files, each in the order written.

use std::collections::BTreeMap;

use kustomization::{FileData, GeneratorArgs};

use kustomization::base64;

/// A value as generated: file contents may be bytes that are not UTF-8.
pub type Bytes = Vec<u8>;

const UTF8_BOM: &str = "\u{feff}";

/// Every pair of `args`, keyed and sorted as kustomize's data maps are (by bytes). A key
/// given twice is an error, as in kustomize. `file` reads a path exactly as written.
pub fn load<'a>(
    args: &GeneratorArgs,
    file: impl Fn(&str) -> Option<&'a FileData>,
) -> Result<BTreeMap<String, Bytes>, String> {
    let mut pairs = Vec::new();
    // kustomize appends the deprecated singular `env` to `envs`.
    for path in args.envs.iter().chain(&args.env) {
        let text = match read(&file, path)? {
            Ok(text) => text,
            Err(_) => return Err(format!("env file `{path}` is not UTF-8 text")),
        };
        pairs.extend(env_lines(&text).map_err(|problem| format!("env file `{path}`: {problem}"))?);
    }
    for literal in &args.literals {
        pairs.push(literal_pair(literal)?);
    }
    for source in &args.files {
        let (key, path) = file_source(source)?;
        let bytes = match read(&file, path)? {
            Ok(text) => text.into_bytes(),
            Err(bytes) => bytes,
        };
        pairs.push((key, bytes));
    }
    let mut data = BTreeMap::new();
    for (key, value) in pairs {
        if data.insert(key.clone(), value).is_some() {
            return Err(format!("the key `{key}` is repeated"));
        }
    }
    Ok(data)
}

/// A loaded file as text, or as bytes when it is not UTF-8.
fn read<'a>(
    file: &impl Fn(&str) -> Option<&'a FileData>,
    path: &str,
) -> Result<Result<String, Bytes>, String> {
    match file(path) {
        Some(FileData::Text(text)) => Ok(Ok(text.clone())),
        Some(FileData::Base64(encoded)) => {
            let bytes = base64::decode(encoded)
                .map_err(|problem| format!("file `{path}` is not valid base64: {problem}"))?;
            Ok(String::from_utf8(bytes).map_err(|error| error.into_bytes()))
        }
        Some(FileData::Documents(_)) => Err(format!(
            "file `{path}` was loaded as YAML documents, not as text"
        )),
        None => Err(format!("file `{path}` was not loaded")),
    }
}

/// An env file's pairs, as kustomize reads them: one `KEY=value` a line (lines split at
/// `\n` with a trailing `\r` dropped), a UTF-8 BOM dropped from the first line, leading
/// whitespace dropped, empty lines and `#` comments skipped; the value is everything after
/// the first `=`, untrimmed and unquoted; a line without `=` has an empty value.
pub fn env_lines(text: &str) -> Result<Vec<(String, Bytes)>, String> {
    let text = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = line.trim_start_matches(char::is_whitespace);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        pairs.push((key.to_owned(), value.as_bytes().to_vec()));
    }
    Ok(pairs)
}

/// `key=value`: the value may hold `=`; quotes around the whole value are removed.
pub fn literal_pair(literal: &str) -> Result<(String, Bytes), String> {
    match literal.split_once('=') {
        Some((key, value)) if !key.is_empty() => {
            Ok((key.to_owned(), unquote(value).as_bytes().to_vec()))
        }
        _ => Err(format!(
            "invalid literal source `{literal}`, expected key=value"
        )),
    }
}

/// Removes one pair of matching single or double quotes around the whole value.
fn unquote(value: &str) -> &str {
    let bytes = value.as_bytes();
    match bytes {
        [first, .., last] if first == last && matches!(first, b'"' | b'\'') => {
            &value[1..value.len() - 1]
        }
        _ => value,
    }
}

/// `[key=]path`: without a key, the key is the path's last element.
pub fn file_source(source: &str) -> Result<(String, &str), String> {
    match source.matches('=').count() {
        0 => Ok((base_name(source), source)),
        1 => match source.split_once('=') {
            Some(("", path)) => Err(format!(
                "missing key name for file path `{path}` in source `{source}`"
            )),
            Some((key, "")) => Err(format!(
                "missing file path for key name `{key}` in source `{source}`"
            )),
            Some((key, path)) => Ok((key.to_owned(), path)),
            None => unreachable!("the source holds one `=`"),
        },
        _ => Err(format!(
            "source `{source}`: the key name or file path contains `=`"
        )),
    }
}

/// Go's `path.Base`: the last element, trailing slashes ignored.
fn base_name(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed {
        "" if path.is_empty() => ".".to_owned(),
        "" => "/".to_owned(),
        _ => trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: Vec<(String, Bytes)>) -> Vec<(String, String)> {
        pairs
            .into_iter()
            .map(|(key, value)| (key, String::from_utf8(value).unwrap()))
            .collect()
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn env_files_read_like_kustomize() {
        let content = "\u{feff}A=1\r\n  # comment\n\n\tB = two = 2 \nC\nD=\"quoted\"\n#E=5";
        assert_eq!(
            text(env_lines(content).unwrap()),
            vec![
                pair("A", "1"),
                pair("B ", " two = 2 "),
                pair("C", ""),
                pair("D", "\"quoted\"")
            ]
        );
        assert!(env_lines("").unwrap().is_empty());
        assert!(env_lines("\n").unwrap().is_empty());
    }

    #[test]
    fn literals_split_at_the_first_equals_and_lose_matching_quotes() {
        let value = |literal: &str| String::from_utf8(literal_pair(literal).unwrap().1).unwrap();
        assert_eq!(value("a=b=c"), "b=c");
        assert_eq!(value("a=\"x\""), "x");
        assert_eq!(value("a='x'"), "x");
        assert_eq!(value("a='x\""), "'x\"");
        assert_eq!(value("a='"), "'");
        assert_eq!(value("a=this is a 'test'"), "this is a 'test'");
        assert_eq!(value("a="), "");
        assert!(literal_pair("=b").is_err());
        assert!(literal_pair("ab").is_err());
    }

    #[test]
    fn file_sources_take_the_base_name_or_the_key() {
        assert_eq!(
            file_source("dir/app.properties").unwrap(),
            ("app.properties".to_owned(), "dir/app.properties")
        );
        assert_eq!(
            file_source("key=dir/a.txt").unwrap(),
            ("key".to_owned(), "dir/a.txt")
        );
        for bad in ["=a.txt", "key=", "a=b=c"] {
            assert!(file_source(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_come_from_envs_literals_and_files_without_repeats() {
        let files = BTreeMap::from([
            ("a.env".to_owned(), FileData::Text("E=1\n".to_owned())),
            ("b.env".to_owned(), FileData::Text("F=2\n".to_owned())),
            ("bin".to_owned(), FileData::Base64("/2hp".to_owned())),
        ]);
        let args = GeneratorArgs {
            envs: vec!["a.env".to_owned()],
            env: Some("b.env".to_owned()),
            literals: vec!["L=3".to_owned()],
            files: vec!["bin".to_owned()],
            ..GeneratorArgs::default()
        };
        let data = load(&args, |path| files.get(path)).unwrap();
        let keys: Vec<&str> = data.keys().map(String::as_str).collect();
        assert_eq!(keys, ["E", "F", "L", "bin"]);
        assert_eq!(data["bin"], vec![0xff, b'h', b'i']);

        let repeated = GeneratorArgs {
            literals: vec!["E=x".to_owned()],
            ..args.clone()
        };
        let error = load(&repeated, |path| files.get(path)).unwrap_err();
        assert!(error.contains("`E` is repeated"), "{error}");
        let missing = GeneratorArgs {
            files: vec!["nope".to_owned()],
            ..GeneratorArgs::default()
        };
        assert!(
            load(&missing, |path| files.get(path))
                .unwrap_err()
                .contains("`nope`")
        );
    }
}
