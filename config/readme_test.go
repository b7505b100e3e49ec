package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite the configuration table in ../README.md")

// markdownTable renders Settings as the README's configuration table.
func markdownTable() string {
	var b strings.Builder
	b.WriteString("| Environment | Key (`--config` file) | Default | Meaning |\n|---|---|---|---|\n")
	for _, s := range Settings() {
		def := "(empty)"
		if s.Default != "" {
			def = "`" + s.Default + "`"
		}
		if s.Secret() {
			def += ", secret"
		}
		b.WriteString("| `" + s.Env + "` | `" + s.Key + "` | " + def + " | " + strings.ReplaceAll(s.Help, "|", `\|`) + " |\n")
	}
	return b.String()
}

// TestReadmeConfigTable keeps the README's table equal to Settings; run
// `go test ./config -update` after changing a setting.
func TestReadmeConfigTable(t *testing.T) {
	const path = "../README.md"
	const start, end = "<!-- config-table:start -->\n", "<!-- config-table:end -->"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, start), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README lacks the %q … %q markers", start, end)
	}
	got, want := readme[i+len(start):j], markdownTable()
	if got == want {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(readme[:i+len(start)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README's configuration table is out of date; run: go test ./config -update")
}
