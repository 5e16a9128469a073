/// Decodes HTML character references (`&amp;`, `&#233;`, `&#x4E2D;`). Unknown names stay as written.
enum CharacterReferences {
    static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "copy": "©", "reg": "®",
        "trade": "™", "mdash": "—", "ndash": "–", "hellip": "…", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
        "rdquo": "”", "laquo": "«", "raquo": "»", "middot": "·", "bull": "•", "deg": "°", "times": "×",
        "divide": "÷", "para": "¶", "sect": "§", "shy": "\u{00AD}", "euro": "€", "pound": "£", "yen": "¥",
        "cent": "¢", "plusmn": "±", "micro": "µ", "frac12": "½", "frac14": "¼", "frac34": "¾", "larr": "←",
        "rarr": "→", "uarr": "↑", "darr": "↓", "harr": "↔", "rArr": "⇒", "lArr": "⇐", "hArr": "⇔", "le": "≤",
        "ge": "≥", "ne": "≠", "asymp": "≈", "infin": "∞", "minus": "−", "prime": "′", "Prime": "″",
        "zwj": "\u{200D}", "zwnj": "\u{200C}", "thinsp": "\u{2009}", "ensp": "\u{2002}", "emsp": "\u{2003}",
        "dagger": "†", "Dagger": "‡", "iexcl": "¡", "iquest": "¿", "ordf": "ª", "ordm": "º", "sup2": "²",
        "sup3": "³", "acute": "´", "cedil": "¸", "uml": "¨", "macr": "¯", "not": "¬", "curren": "¤",
        "brvbar": "¦", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "pi": "π", "sigma": "σ",
        "mu": "μ", "lambda": "λ", "omega": "ω", "Omega": "Ω", "theta": "θ", "check": "✓",
        "eacute": "é", "egrave": "è", "ecirc": "ê", "euml": "ë", "aacute": "á", "agrave": "à", "acirc": "â",
        "auml": "ä", "aring": "å", "atilde": "ã", "aelig": "æ", "ccedil": "ç", "iacute": "í", "igrave": "ì",
        "icirc": "î", "iuml": "ï", "ntilde": "ñ", "oacute": "ó", "ograve": "ò", "ocirc": "ô", "ouml": "ö",
        "otilde": "õ", "oslash": "ø", "uacute": "ú", "ugrave": "ù", "ucirc": "û", "uuml": "ü", "yacute": "ý",
        "szlig": "ß", "Eacute": "É", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "Aring": "Å", "Ccedil": "Ç",
        "Ntilde": "Ñ", "Oslash": "Ø",
    ]

    static func decode(_ input: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        guard input.contains("&") else { return Array(input) }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count)
        var index = input.startIndex
        while index < input.endIndex {
            let scalar = input[index]
            guard scalar == "&", let end = input[index...].prefix(34).firstIndex(of: ";") else {
                out.append(scalar)
                index += 1
                continue
            }
            let body = String(String.UnicodeScalarView(input[(index + 1)..<end]))
            if let decoded = decodeReference(body) {
                if decoded != "\u{00AD}" { out.append(decoded) }
                index = end + 1
            } else {
                out.append(scalar)
                index += 1
            }
        }
        return out
    }

    private static func decodeReference(_ body: String) -> Unicode.Scalar? {
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            return UInt32(body.dropFirst(2), radix: 16).flatMap(validScalar)
        }
        if body.hasPrefix("#") {
            return UInt32(body.dropFirst(), radix: 10).flatMap(validScalar)
        }
        return named[body]
    }

    private static func validScalar(_ value: UInt32) -> Unicode.Scalar? {
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }
}
