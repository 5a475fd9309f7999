//! kyaml's layout of base64 values in generated objects, on the shared encoding.

use kustomization::base64::encode;

/// kyaml breaks encoded values into lines of this many characters.
const LINE_LENGTH: usize = 70;

/// The value kyaml writes for generated Secret data and ConfigMap binaryData: base64 cut into
/// lines of 70 characters, each ending in a newline, once the encoding reaches 70 characters.
pub fn encode_wrapped(bytes: &[u8]) -> String {
    let encoded = encode(bytes);
    if encoded.len() < LINE_LENGTH {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE_LENGTH + 1);
    for line in encoded.as_bytes().chunks(LINE_LENGTH) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_break_into_lines_of_seventy() {
        // kustomize's TestGeneratorBasics: the Secret value of its forces.txt.
        let forces = "\ngravitational\nelectromagnetic\nstrong nuclear\nweak nuclear\n";
        assert_eq!(
            encode_wrapped(forces.as_bytes()),
            "CmdyYXZpdGF0aW9uYWwKZWxlY3Ryb21hZ25ldGljCnN0cm9uZyBudWNsZWFyCndlYWsgbn\nVjbGVhcgo=\n"
        );
        let seventy_two = [b'x'; 54];
        assert_eq!(encode_wrapped(&seventy_two).matches('\n').count(), 2);
        assert_eq!(encode_wrapped(b"short"), "c2hvcnQ=");
    }
}
