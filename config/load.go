package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// LoadOptions are the inputs of Load. Every field is optional.
type LoadOptions struct {
	// File is a YAML configuration file (--config). Empty: none.
	File string
	// LookupEnv reads the process environment; nil means an empty one.
	LookupEnv func(key string) (string, bool)
	// DotEnv is the path of a .env file whose values apply below the
	// process environment; a missing file is not an error.
	DotEnv string
	// Flags, when set, override keys whose flag (FlagName) was explicitly
	// set on the command line.
	Flags *pflag.FlagSet
	// ReadFile reads File and DotEnv; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Load builds the Config from defaults < file < .env < environment <
// flags and validates it. A validation failure is a *ValidationError.
func Load(opts LoadOptions) (*Config, error) {
	readFile := opts.ReadFile
	if readFile == nil {
		readFile = os.ReadFile
	}
	settings := Settings()
	v := viper.New()
	for _, s := range settings {
		v.SetDefault(s.Key, s.Default)
	}

	sources := make(map[string]Source, len(settings))
	for _, s := range settings {
		sources[s.Key] = SourceDefault
	}

	if opts.File != "" {
		data, err := readFile(opts.File)
		if err != nil {
			return nil, fileProblem(opts.File, err, "check the path given by --config or PAYMENT_CONFIG")
		}
		v.SetConfigType(configType(opts.File))
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return nil, fileProblem(opts.File, err, "correct its syntax ("+configType(opts.File)+")")
		}
		known := make(map[string]bool, len(settings)+1)
		known[StoresKey] = true // a list, read by loadStores
		for _, s := range settings {
			known[s.Key] = true
			if v.InConfig(s.Key) {
				sources[s.Key] = SourceFile
			}
		}
		if unknown := unknownKeys(v.AllKeys(), known); len(unknown) > 0 {
			return nil, &ValidationError{Problems: []Problem{{
				Key: unknown[0], Problem: fmt.Sprintf("%s: unknown key %q", opts.File, unknown[0]),
				Fix: "remove it or correct its spelling; `paymentctl config print` lists the keys",
			}}}
		}
	}

	var dotenv map[string]string
	if opts.DotEnv != "" {
		data, err := readFile(opts.DotEnv)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fileProblem(opts.DotEnv, err, "make it readable, or remove it")
		default:
			dotenv, err = godotenv.UnmarshalBytes(data)
			if err != nil {
				return nil, fileProblem(opts.DotEnv, err, "correct its syntax (NAME=value lines)")
			}
		}
	}
	for _, s := range settings {
		// An empty variable counts as unset, as viper and most twelve-factor
		// tools treat it; an empty value can still be set in the file.
		if val := dotenv[s.Env]; val != "" {
			v.Set(s.Key, val)
			sources[s.Key] = SourceDotEnv
		}
		if opts.LookupEnv != nil {
			if val, ok := opts.LookupEnv(s.Env); ok && val != "" {
				v.Set(s.Key, val)
				sources[s.Key] = SourceEnv
			}
		}
		if opts.Flags != nil {
			if f := opts.Flags.Lookup(FlagName(s.Key)); f != nil && f.Changed {
				v.Set(s.Key, f.Value.String())
				sources[s.Key] = SourceFlag
			}
		}
	}

	stores, storesSource, err := loadStores(v, dotenv, opts.LookupEnv)
	if err != nil {
		return nil, err
	}

	values := make(map[string]string, len(settings))
	for _, s := range settings {
		values[s.Key] = v.GetString(s.Key)
	}
	// Check kinds before decoding, so a bad number is reported with its key
	// and environment name rather than as a decoder error.
	if problems := checkKinds(settings, values, sources); len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}

	services, problem := decodeServiceList(v.Get(keyServicesList))
	if problem != nil {
		return nil, &ValidationError{Problems: []Problem{*problem}}
	}
	cfg := &Config{values: values, sources: sources}
	if err := v.Unmarshal(cfg); err != nil {
		return nil, &ValidationError{Problems: []Problem{{Problem: fmt.Sprintf("decode the configuration: %v", err)}}}
	}
	cfg.Stores, cfg.storesSource = stores, storesSource
	cfg.Services.List = services
	// An empty environment variable counts as unset, as for every key, so
	// the environment turns the metrics listener off with "off".
	if strings.EqualFold(cfg.Metrics.Addr, MetricsOff) {
		cfg.Metrics.Addr = ""
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// fileProblem is a *ValidationError for a configuration file (--config or
// .env) that cannot be read or parsed: a configuration error like a bad
// value, which a service manager must not retry.
func fileProblem(name string, err error, fix string) *ValidationError {
	return &ValidationError{Problems: []Problem{{Env: name, Problem: err.Error(), Fix: fix}}}
}

// configType picks viper's parser from the file extension; YAML unless it
// says otherwise.
func configType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".toml":
		return "toml"
	default:
		return "yaml"
	}
}

// unknownKeys returns the file's keys that are no setting, sorted.
func unknownKeys(keys []string, known map[string]bool) []string {
	var out []string
	for _, k := range keys {
		if !known[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// loadStores reads the store list: PAYMENT_STORES from the environment,
// else from the .env file, else the file's `stores` (re-encoded as JSON,
// so that one decoder reads both forms). A higher layer replaces the list
// as a whole. Nothing set: no stores, from the defaults.
func loadStores(v *viper.Viper, dotenv map[string]string, lookupEnv func(string) (string, bool)) ([]Store, Source, error) {
	var (
		data []byte
		src  = SourceDefault
	)
	if v.InConfig(StoresKey) {
		raw, err := json.Marshal(v.Get(StoresKey))
		if err != nil {
			return nil, SourceFile, storesProblem(SourceFile, "cannot be read as a list: "+err.Error())
		}
		data, src = raw, SourceFile
	}
	if val := dotenv[StoresEnv]; val != "" {
		data, src = []byte(val), SourceDotEnv
	}
	if lookupEnv != nil {
		if val, ok := lookupEnv(StoresEnv); ok && val != "" {
			data, src = []byte(val), SourceEnv
		}
	}
	if data == nil {
		return nil, src, nil
	}
	stores, err := decodeStores(data)
	if err != nil {
		return nil, src, storesProblem(src, err.Error())
	}
	return stores, src, nil
}

// storesProblem is a *ValidationError about the store list as a whole.
func storesProblem(src Source, problem string) *ValidationError {
	p := Problem{Key: StoresKey, Problem: problem,
		Fix: `write a list of {vendor, store_id, key, secret, webhook_secret} entries (README "Several services and stores")`}
	if src != SourceFile {
		p.Env = StoresEnv
	}
	return &ValidationError{Problems: []Problem{p}}
}
