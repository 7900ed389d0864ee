package node

import (
	"fmt"
	"strconv"
	"strings"
)

// Str returns a bulk or status reply as a string.
func Str(v any, err error) (string, error) {
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("unexpected reply %T", v)
}

// Int returns an integer reply.
func Int(v any, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("unexpected reply %T", v)
}

// Strings returns an array reply of bulk strings.
func Strings(v any, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		if v == nil {
			return nil, nil
		}
		return nil, fmt.Errorf("unexpected reply %T", v)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, err := Str(e, nil)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// InfoField returns the value of "name:value" in an INFO reply and whether the
// field is present.
func InfoField(info, name string) (string, bool) {
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimRight(line, "\r")
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return v, true
		}
	}
	return "", false
}
