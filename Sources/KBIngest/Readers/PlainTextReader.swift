/// Plain text: the text as is; the title is the file name without its extension.
public enum PlainTextReader {
    public static func parse(_ text: String, fileStem: String) -> ParsedDocument {
        ParsedDocument(title: fileStem, text: text, format: .text)
    }
}
