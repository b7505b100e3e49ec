package server

// presentKeys sets present[i] when the top-level object of raw, which
// must be valid JSON, has the key required[i] with a value other than
// null; of a key given twice the last counts, as encoding/json decodes
// it. It reads the bytes without decoding them: the required-key check
// of decode without a map of the body. It returns false, and present is
// to be ignored, when raw is not an object or has a key with an escape
// (which only decoding would compare rightly).
func presentKeys(raw []byte, required []string, present []bool) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return false
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return true
	}
	for i < len(raw) && raw[i] == '"' {
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			if raw[end] == '\\' {
				return false
			}
			end++
		}
		key := raw[i+1 : end]
		i = skipSpace(raw, end+1)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipSpace(raw, i+1)
		vEnd := skipValue(raw, i)
		if vEnd <= i {
			return false
		}
		for k, name := range required {
			if string(key) == name {
				present[k] = string(raw[i:vEnd]) != "null"
			}
		}
		i = skipSpace(raw, vEnd)
		if i >= len(raw) {
			return false
		}
		switch raw[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(raw, i+1)
		default:
			return false
		}
	}
	return false
}

// skipSpace returns the index of the first byte of raw at or after i that
// is not JSON white space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) {
		switch raw[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at
// raw[i], which is valid JSON, or i when there is none.
func skipValue(raw []byte, i int) int {
	if i >= len(raw) {
		return i
	}
	switch raw[i] {
	case '"':
		return skipString(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				j = skipString(raw, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return i
	}
	// A number, true, false or null.
	j := i
	for j < len(raw) {
		switch raw[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// skipString returns the index just past the JSON string that starts at
// raw[i] (its opening quote), or len(raw) when it does not end.
func skipString(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(raw)
}
