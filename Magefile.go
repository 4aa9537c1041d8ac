//go:build mage

// The plugin developer's targets over cargo and npm (the Go SDK's build helpers only drive
// `go build`). `mage -l` lists them; `mage` alone builds.
//
//	mage build:backend   static gpx_maturity_<os>_<arch> binaries into dist/ (scripts/build-backend)
//	mage build:frontend  npm ci (when frontend/node_modules is missing), then npm run build
//	mage build           both, the frontend first (webpack cleans dist/ except the binaries)
//	mage package         build, check dist/, then datadriven-maturity-datasource-<version>.zip
//	                     (one folder named after the plugin id) and its .zip.sha256
//	mage test            scripts/test (every suite)
//	mage bench           cargo bench --bench budget
//	mage demo            scripts/run-demo
//
// The version is Cargo.toml's (the one source of truth; webpack fills it into plugin.json).
// MATURITY_PLATFORMS limits the backend platforms (see scripts/build-backend).

// Data-Driven Maturity: build, package, test, bench and demo (`mage build` is buildAll).
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/magefile/mage/mg"
)

// PluginID is plugin.json's id: the archive's top folder and the start of its name.
const PluginID = "datadriven-maturity-datasource"

// Dist is where webpack and scripts/build-backend assemble the plugin folder.
const Dist = "dist"

// Default is what `mage` alone runs.
var Default = BuildAll

// Aliases: `mage build` builds both halves (a Go function cannot share the namespace's name).
var Aliases = map[string]interface{}{
	"build": BuildAll,
}

// Build is the namespace of build:backend and build:frontend.
type Build mg.Namespace

// Backend builds the static backend binaries (linux amd64/arm64 musl; windows/darwin where this machine can) into dist/.
func (Build) Backend() error {
	return run(nil, "bash", "scripts/build-backend")
}

// Frontend installs the frontend's packages when node_modules is missing, then builds module.js and the plugin files into dist/.
func (Build) Frontend() error {
	if _, err := os.Stat(filepath.Join("frontend", "node_modules")); errors.Is(err, fs.ErrNotExist) {
		if err := runIn("frontend", "npm", "ci", "--no-audit", "--no-fund"); err != nil {
			return err
		}
	}
	return runIn("frontend", "npm", "run", "build")
}

// BuildAll builds the frontend, then the backend (webpack cleans dist/ except the gpx_maturity_* binaries).
func BuildAll() {
	mg.SerialDeps(Build.Frontend, Build.Backend)
}

// Package builds, checks dist/ and writes datadriven-maturity-datasource-<version>.zip and its .zip.sha256.
func Package() error {
	mg.SerialDeps(BuildAll)
	version, err := cargoVersion()
	if err != nil {
		return err
	}
	if err := checkDist(Dist, version); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.zip", PluginID, version)
	sum, err := writeZip(Dist, PluginID, name)
	if err != nil {
		return err
	}
	if err := os.WriteFile(name+".sha256", []byte(sum+"  "+name+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("package: %s (sha256 %s) and %s.sha256\n", name, sum, name)
	return nil
}

// Test runs every test suite (scripts/test).
func Test() error {
	return run(nil, "bash", "scripts/test")
}

// Bench runs the performance budget (cargo bench --bench budget).
func Bench() error {
	return run(nil, "cargo", "bench", "--bench", "budget")
}

// Demo builds, writes the demo store ./demo-data/maturity.db and prints every team's level (scripts/run-demo).
func Demo() error {
	return run(nil, "bash", "scripts/run-demo")
}

// cargoVersion is the package version of Cargo.toml's [package] table.
func cargoVersion() (string, error) {
	raw, err := os.ReadFile("Cargo.toml")
	if err != nil {
		return "", err
	}
	section := ""
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if section != "[package]" {
			continue
		}
		if m := regexp.MustCompile(`^version\s*=\s*"([^"]+)"`).FindStringSubmatch(line); m != nil {
			return m[1], nil
		}
	}
	return "", errors.New("Cargo.toml: no version in [package]")
}

var (
	datePattern    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	versionPattern = regexp.MustCompile(`^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$`)
)

// pluginJSON is what packaging checks of a plugin.json.
type pluginJSON struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Backend    bool   `json:"backend"`
	Executable string `json:"executable"`
	Info       struct {
		Version     string `json:"version"`
		Updated     string `json:"updated"`
		Logos       map[string]string
		Screenshots []struct {
			Path string `json:"path"`
		} `json:"screenshots"`
	} `json:"info"`
	Includes []struct {
		Path string `json:"path"`
	} `json:"includes"`
}

// checkDist checks that dir holds the plugin folder Grafana loads: plugin.json (and every
// nested one) with the version and date filled in, module.js beside each, the files they name,
// the documents, the dashboards when the repository has some, and the executable bit on every
// gpx_maturity_* (with the Linux ones present).
func checkDist(dir, version string) error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
		return err == nil
	}

	var manifests []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "plugin.json" {
			rel, _ := filepath.Rel(dir, p)
			manifests = append(manifests, filepath.ToSlash(rel))
		}
		return nil
	})
	if !exists("plugin.json") {
		fail("no plugin.json")
	}
	for _, m := range manifests {
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(m)))
		if err != nil {
			fail("%s: %v", m, err)
			continue
		}
		var pj pluginJSON
		if err := json.Unmarshal(raw, &pj); err != nil {
			fail("%s: %v", m, err)
			continue
		}
		base := path.Dir(m)
		if pj.Info.Version != version {
			fail("%s: info.version %q, want Cargo.toml's %q", m, pj.Info.Version, version)
		}
		if !versionPattern.MatchString(pj.Info.Version) {
			fail("%s: info.version %q is not a version", m, pj.Info.Version)
		}
		if !datePattern.MatchString(pj.Info.Updated) {
			fail("%s: info.updated %q is not a date", m, pj.Info.Updated)
		} else if _, err := time.Parse("2006-01-02", pj.Info.Updated); err != nil {
			fail("%s: info.updated %q: %v", m, pj.Info.Updated, err)
		}
		if !exists(path.Join(base, "module.js")) {
			fail("%s: no module.js beside it", m)
		}
		var named []string
		for _, l := range pj.Info.Logos {
			named = append(named, l)
		}
		for _, s := range pj.Info.Screenshots {
			named = append(named, s.Path)
		}
		for _, inc := range pj.Includes {
			if inc.Path != "" {
				named = append(named, inc.Path)
			}
		}
		for _, n := range named {
			if n != "" && !exists(path.Join(base, n)) {
				fail("%s names %s, which is not in %s", m, n, dir)
			}
		}
		if m == "plugin.json" && (pj.ID != PluginID || pj.Type != "datasource" || !pj.Backend || pj.Executable != "gpx_maturity") {
			fail("plugin.json: id %q, type %q, backend %v, executable %q; want %s, datasource, true, gpx_maturity",
				pj.ID, pj.Type, pj.Backend, pj.Executable, PluginID)
		}
	}
	for _, f := range []string{"module.js", "img", "README.md", "CHANGELOG.md", "LICENSE"} {
		if !exists(f) {
			fail("no %s", f)
		}
	}
	if _, err := os.Stat("dashboards"); err == nil && !exists("dashboards") {
		fail("no dashboards/ (the repository has some)")
	}
	binaries, _ := filepath.Glob(filepath.Join(dir, "gpx_maturity_*"))
	for _, b := range binaries {
		st, err := os.Stat(b)
		if err != nil || st.IsDir() || st.Mode()&0o111 != 0o111 {
			fail("%s is not an executable file", b)
		}
	}
	for _, p := range requiredPlatforms() {
		if !exists("gpx_maturity_" + p) {
			fail("no gpx_maturity_%s", p)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is not a complete plugin folder:\n  %s", dir, strings.Join(problems, "\n  "))
	}
	return nil
}

// requiredPlatforms are the Linux binaries the archive must carry (those of MATURITY_PLATFORMS
// when it is set).
func requiredPlatforms() []string {
	want := []string{"linux_amd64", "linux_arm64"}
	if env := strings.TrimSpace(os.Getenv("MATURITY_PLATFORMS")); env != "" {
		want = nil
		for _, p := range strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' }) {
			if strings.HasPrefix(p, "linux_") {
				want = append(want, p)
			}
		}
	}
	return want
}

// writeZip writes dir's content under one top folder named top into the archive name (files in
// sorted order, modes kept, times from SOURCE_DATE_EPOCH when set) and returns its sha256.
func writeZip(dir, top, name string) (string, error) {
	var entries []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("%s is neither a file nor a folder", p)
		}
		entries = append(entries, p)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(entries)

	var stamp time.Time
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var secs int64
		if _, err := fmt.Sscan(s, &secs); err == nil {
			stamp = time.Unix(secs, 0).UTC()
		}
	}

	tmp := name + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	hash := sha256.New()
	zw := zip.NewWriter(io.MultiWriter(out, hash))
	add := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		h, err := zip.FileInfoHeader(st)
		if err != nil {
			return err
		}
		h.Name = top + "/" + filepath.ToSlash(rel)
		if !stamp.IsZero() {
			h.Modified = stamp
		}
		if st.IsDir() {
			h.Name += "/"
			h.Method = zip.Store
			_, err = zw.CreateHeader(h)
			return err
		}
		h.Method = zip.Deflate
		w, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	topHeader := &zip.FileHeader{Name: top + "/", Method: zip.Store, Modified: stamp}
	if stamp.IsZero() {
		topHeader.Modified = time.Now()
	}
	topHeader.SetMode(fs.ModeDir | 0o755)
	if _, err := zw.CreateHeader(topHeader); err != nil {
		out.Close()
		return "", err
	}
	for _, p := range entries {
		if err := add(p); err != nil {
			out.Close()
			return "", fmt.Errorf("zip %s: %w", p, err)
		}
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, name); err != nil {
		return "", err
	}
	return hex.EncodeToString(hash.Sum(nil)), nil
}

func run(env map[string]string, cmd string, args ...string) error {
	return runEnvIn("", env, cmd, args...)
}

func runIn(dir, cmd string, args ...string) error {
	return runEnvIn(dir, nil, cmd, args...)
}

func runEnvIn(dir string, env map[string]string, cmd string, args ...string) error {
	c := exec.Command(cmd, args...)
	c.Dir = dir
	c.Stdout, c.Stderr, c.Stdin = os.Stdout, os.Stderr, os.Stdin
	c.Env = os.Environ()
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	where := ""
	if dir != "" {
		where = " (in " + dir + ")"
	}
	fmt.Printf("mage: %s %s%s\n", cmd, strings.Join(args, " "), where)
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s%s: %w", cmd, strings.Join(args, " "), where, err)
	}
	return nil
}
