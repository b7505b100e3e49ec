package monitor

import (
	"strings"

	"github.com/paymentctl/paymentctl/config"
)

// masked replaces a secret in the arguments System reports.
const masked = "******"

// maskArguments returns a copy of args, the process's command line, with
// the secrets it may hold masked, since GET /monitors/system answers it:
//
//   - the value of a flag named after a secret setting (config.FlagName of
//     a KindSecret key, such as --database-url), in the --flag=value,
//     --flag value, -flag=value and -flag value forms;
//   - the value of an environment assignment NAME=value whose NAME is a
//     secret setting's variable (PAYMENT_SYSTEM_PASSWORD=…, as `env`
//     passes them);
//   - the password of every URL's userinfo (scheme://user:password@host)
//     anywhere in any other argument.
func maskArguments(args []string) []string {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, s := range config.Settings() {
		if s.Secret() {
			flags[config.FlagName(s.Key)] = true
			envs[s.Env] = true
		}
	}
	out := make([]string, len(args))
	valueNext := false
	for i, arg := range args {
		if valueNext {
			out[i], valueNext = masked, false
			continue
		}
		if name, hasValue, ok := flagOf(arg); ok && flags[name] {
			if hasValue {
				out[i] = arg[:strings.Index(arg, "=")+1] + masked
			} else {
				out[i], valueNext = arg, true
			}
			continue
		}
		if name, _, ok := strings.Cut(arg, "="); ok && envs[name] {
			out[i] = name + "=" + masked
			continue
		}
		out[i] = maskURLPasswords(arg)
	}
	return out
}

// flagOf parses arg as a flag: -name, --name, -name=value or
// --name=value. ok is false for anything else ("-", "--", a value).
func flagOf(arg string) (name string, hasValue, ok bool) {
	if !strings.HasPrefix(arg, "-") {
		return "", false, false
	}
	name = strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-")
	name, _, hasValue = strings.Cut(name, "=")
	return name, hasValue, name != ""
}

// maskURLPasswords masks the password of every URL in s. The authority
// ends at the first "/", "?", "#" or space after "://", as url.Parse
// reads it, and the userinfo at its last "@", so a password holding a
// raw "@" is masked whole.
func maskURLPasswords(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i + len("://")
		end := len(s)
		if j := strings.IndexAny(s[start:], "/?# \t\n"); j >= 0 {
			end = start + j
		}
		authority := s[start:end]
		if at := strings.LastIndex(authority, "@"); at >= 0 {
			if colon := strings.Index(authority[:at], ":"); colon >= 0 {
				authority = authority[:colon+1] + masked + authority[at:]
			}
		}
		b.WriteString(s[:start])
		b.WriteString(authority)
		s = s[end:]
	}
}
