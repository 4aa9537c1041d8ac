package e2e

// The release archive as Grafana's plugin installer sees it (issue 10): `mage package` writes
// datadriven-maturity-datasource-<version>.zip; scripts/test hands its path to this suite as
// MATURITY_PACKAGE_ZIP. Without it the test is skipped.

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"gopkg.in/yaml.v3"
)

// PackageZipEnv names the archive under test.
const PackageZipEnv = "MATURITY_PACKAGE_ZIP"

var (
	pkgDate    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	pkgVersion = regexp.MustCompile(`^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$`)
)

// pkgManifest is the part of a plugin.json Grafana's loader and installer rely on.
type pkgManifest struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Backend     bool   `json:"backend"`
	Executable  string `json:"executable"`
	Alerting    bool   `json:"alerting"`
	Annotations bool   `json:"annotations"`
	Info        struct {
		Version string            `json:"version"`
		Updated string            `json:"updated"`
		Logos   map[string]string `json:"logos"`
		Links   []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"links"`
		Screenshots []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"screenshots"`
	} `json:"info"`
	Includes []struct {
		Type string `json:"type"`
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"includes"`
	Dependencies struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`
}

// unpackPlugin extracts the archive into dir the way `grafana cli plugins install` does (modes
// kept), failing on any entry outside one top folder named after the plugin id.
func unpackPlugin(t *testing.T, zipPath, dir string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatalf("open %s: %v", zipPath, err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		t.Fatalf("%s is empty", zipPath)
	}
	tops := map[string]bool{}
	for _, f := range zr.File {
		name := f.Name
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean("/"+name) != "/"+strings.TrimSuffix(name, "/") {
			t.Fatalf("entry %q is not a clean relative path", name)
		}
		top, _, _ := strings.Cut(name, "/")
		tops[top] = true
		if !strings.Contains(name, "/") {
			t.Errorf("entry %q is a file at the archive's top level, not inside the plugin folder", name)
			continue
		}
		mode := f.Mode()
		if mode&os.ModeSymlink != 0 || (!mode.IsDir() && !mode.IsRegular()) {
			t.Errorf("entry %q is neither a file nor a folder (%v)", name, mode)
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if mode.IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rc.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(tops) != 1 || !tops[PluginID] {
		names := make([]string, 0, len(tops))
		for k := range tops {
			names = append(names, k)
		}
		t.Fatalf("the archive's top level is %v, want exactly one folder %q", names, PluginID)
	}
	return filepath.Join(dir, PluginID)
}

func readManifest(t *testing.T, file string) pkgManifest {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var m pkgManifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s is not valid JSON for plugin.json: %v", file, err)
	}
	return m
}

// checkManifestFiles checks the version, the date and every file a plugin.json names.
func checkManifestFiles(t *testing.T, root, rel string, m pkgManifest, version string) {
	t.Helper()
	base := filepath.Join(root, filepath.Dir(filepath.FromSlash(rel)))
	if m.Info.Version != version || !pkgVersion.MatchString(m.Info.Version) {
		t.Errorf("%s: info.version %q, want Cargo.toml's %q (filled in at packaging, not a placeholder)", rel, m.Info.Version, version)
	}
	if !pkgDate.MatchString(m.Info.Updated) {
		t.Errorf("%s: info.updated %q is not a YYYY-MM-DD date", rel, m.Info.Updated)
	} else if d, err := time.Parse("2006-01-02", m.Info.Updated); err != nil || d.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("%s: info.updated %q is not a past date (%v)", rel, m.Info.Updated, err)
	}
	if st, err := os.Stat(filepath.Join(base, "module.js")); err != nil || st.Size() == 0 {
		t.Errorf("%s: no module.js beside it (%v)", rel, err)
	}
	named := map[string]string{}
	for k, v := range m.Info.Logos {
		named["info.logos."+k] = v
	}
	for i, s := range m.Info.Screenshots {
		named[fmt.Sprintf("info.screenshots[%d] (%s)", i, s.Name)] = s.Path
	}
	for i, inc := range m.Includes {
		if inc.Path == "" {
			continue
		}
		named[fmt.Sprintf("includes[%d] (%s %q)", i, inc.Type, inc.Name)] = inc.Path
	}
	for what, p := range named {
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
			t.Errorf("%s: %s path %q is not a path inside the plugin folder", rel, what, p)
			continue
		}
		if st, err := os.Stat(filepath.Join(base, filepath.FromSlash(p))); err != nil || st.IsDir() {
			t.Errorf("%s: %s names %s, which the archive does not hold", rel, what, p)
		}
	}
	for _, l := range m.Info.Links {
		if !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
			t.Errorf("%s: info.links %q has the relative URL %q (Grafana opens links as they are)", rel, l.Name, l.URL)
		}
	}
}

// binaryFormat describes a backend binary and reports whether it suits its platform name;
// Linux ones must be static (they run on Alpine's musl and on glibc systems alike).
func binaryFormat(file, platform string) (string, error) {
	switch {
	case strings.HasPrefix(platform, "linux_"):
		f, err := elf.Open(file)
		if err != nil {
			return "", fmt.Errorf("not an ELF executable: %w", err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"linux_amd64": elf.EM_X86_64, "linux_arm64": elf.EM_AARCH64}[platform]
		if want != 0 && f.Machine != want {
			return "", fmt.Errorf("ELF for %v, want %v", f.Machine, want)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return "", fmt.Errorf("dynamically linked (it asks for a program interpreter)")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			return "", fmt.Errorf("dynamically linked against %v", libs)
		}
		return fmt.Sprintf("ELF %v, statically linked", f.Machine), nil
	case strings.HasPrefix(platform, "windows_"):
		f, err := pe.Open(file)
		if err != nil {
			return "", fmt.Errorf("not a PE executable: %w", err)
		}
		defer f.Close()
		if platform == "windows_amd64" && f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			return "", fmt.Errorf("PE for machine %#x, want amd64", f.Machine)
		}
		return "PE amd64", nil
	case strings.HasPrefix(platform, "darwin_"):
		f, err := macho.Open(file)
		if err != nil {
			return "", fmt.Errorf("not a Mach-O executable: %w", err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"darwin_amd64": macho.CpuAmd64, "darwin_arm64": macho.CpuArm64}[platform]
		if want != 0 && f.Cpu != want {
			return "", fmt.Errorf("Mach-O for %v, want %v", f.Cpu, want)
		}
		return fmt.Sprintf("Mach-O %v", f.Cpu), nil
	}
	return "", fmt.Errorf("unknown platform %q", platform)
}

func fileSHA256(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestPackage(t *testing.T) {
	zipPath := os.Getenv(PackageZipEnv)
	if zipPath == "" {
		t.Skipf("%s is not set (scripts/test sets it to the archive `mage package` wrote)", PackageZipEnv)
	}
	version := cargoVersionOf(t)
	root := unpackPlugin(t, zipPath, t.TempDir())

	t.Run("the archive is named after the plugin id and version, its sha256 beside it", func(t *testing.T) {
		if want := fmt.Sprintf("%s-%s.zip", PluginID, version); filepath.Base(zipPath) != want {
			t.Errorf("archive %s, want %s", filepath.Base(zipPath), want)
		}
		raw, err := os.ReadFile(zipPath + ".sha256")
		if err != nil {
			t.Fatalf("no checksum file: %v", err)
		}
		fields := strings.Fields(string(raw))
		if len(fields) != 2 || fields[1] != filepath.Base(zipPath) {
			t.Fatalf("%s.sha256 is %q, want `<sha256>  <archive name>` (sha256sum -c)", zipPath, raw)
		}
		if got := fileSHA256(t, zipPath); fields[0] != got {
			t.Errorf("%s.sha256 says %s, the archive's is %s", zipPath, fields[0], got)
		}
	})

	t.Run("plugin.json is a backend datasource with alerting and annotations", func(t *testing.T) {
		m := readManifest(t, filepath.Join(root, "plugin.json"))
		if m.ID != PluginID || m.Type != "datasource" || !m.Backend || m.Executable != "gpx_maturity" || !m.Alerting || !m.Annotations {
			t.Errorf("plugin.json: id %q type %q backend %v executable %q alerting %v annotations %v; want %s datasource true gpx_maturity true true",
				m.ID, m.Type, m.Backend, m.Executable, m.Alerting, m.Annotations, PluginID)
		}
		if m.Name == "" || m.Dependencies.GrafanaDependency == "" {
			t.Errorf("plugin.json: name %q, dependencies.grafanaDependency %q: both are required", m.Name, m.Dependencies.GrafanaDependency)
		}
		checkManifestFiles(t, root, "plugin.json", m, version)
		dashboards := 0
		for _, inc := range m.Includes {
			if inc.Type == "dashboard" {
				dashboards++
			}
		}
		if entries, _ := filepath.Glob(repoFile("dashboards", "*.json")); len(entries) != dashboards {
			t.Errorf("plugin.json includes %d dashboards, the repository's dashboards/ has %d", dashboards, len(entries))
		}
	})

	t.Run("every nested plugin.json is complete", func(t *testing.T) {
		err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || info.Name() != "plugin.json" || p == filepath.Join(root, "plugin.json") {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			m := readManifest(t, p)
			if m.ID == "" || m.ID == PluginID || m.Type == "" {
				t.Errorf("%s: id %q type %q", rel, m.ID, m.Type)
			}
			checkManifestFiles(t, root, filepath.ToSlash(rel), m, version)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the documents, the logo and the dashboards are there", func(t *testing.T) {
		want := []string{"module.js", "README.md", "CHANGELOG.md", "LICENSE", "img/logo.svg"}
		if st, err := os.Stat(repoFile("dashboards")); err == nil && st.IsDir() {
			want = append(want, "dashboards")
		}
		for _, f := range want {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(f))); err != nil {
				t.Errorf("the plugin folder has no %s", f)
			}
		}
		if raw, err := os.ReadFile(filepath.Join(root, "LICENSE")); err == nil && !bytes.Contains(raw, []byte("Apache License")) {
			t.Errorf("LICENSE is not the Apache License")
		}
	})

	t.Run("every backend binary is executable and built for its platform", func(t *testing.T) {
		bins, _ := filepath.Glob(filepath.Join(root, "gpx_maturity_*"))
		found := map[string]bool{}
		for _, b := range bins {
			name := filepath.Base(b)
			platform := strings.TrimSuffix(strings.TrimPrefix(name, "gpx_maturity_"), ".exe")
			found[platform] = true
			st, err := os.Stat(b)
			if err != nil || !st.Mode().IsRegular() {
				t.Errorf("%s is not a file", name)
				continue
			}
			if st.Mode().Perm()&0o111 != 0o111 {
				t.Errorf("%s has mode %v: Grafana needs the executable bit", name, st.Mode().Perm())
			}
			if strings.HasPrefix(platform, "windows_") != strings.HasSuffix(name, ".exe") {
				t.Errorf("%s: Windows binaries (and only they) end in .exe", name)
			}
			desc, err := binaryFormat(b, platform)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			t.Logf("%s: %s, %d bytes", name, desc, st.Size())
		}
		for _, p := range []string{"linux_amd64", "linux_arm64"} {
			if !found[p] {
				t.Errorf("no gpx_maturity_%s in the archive", p)
			}
		}
	})

	t.Run("the packaged binary starts as Grafana starts it and answers CheckHealth", func(t *testing.T) {
		platform := runtime.GOOS + "_" + runtime.GOARCH
		suffix := ""
		if runtime.GOOS == "windows" {
			suffix = ".exe"
		}
		bin := filepath.Join(root, "gpx_maturity_"+platform+suffix)
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("the archive has no binary for this machine (%s)", platform)
		}
		if env := os.Getenv("MATURITY_PLUGIN_BIN"); env != "" && platform == "linux_amd64" {
			if fileSHA256(t, env) != fileSHA256(t, bin) {
				t.Errorf("the suite ran MATURITY_PLUGIN_BIN=%s, which is not the archive's %s: what ships is not what was tested", env, filepath.Base(bin))
			}
		}
		dir := t.TempDir()
		p, err := StartPlugin(bin, StartOptions{
			Env:     GrafanaEnv(filepath.Join(dir, "default", "maturity.db")),
			LogPath: filepath.Join(dir, "plugin.log"),
			Dir:     dir,
		})
		if err != nil {
			t.Fatalf("the packaged binary did not start: %v", err)
		}
		defer p.Kill()
		ds := &Datasource{OrgID: 1, ID: 1, UID: NewUID("pkg"), Name: "Data-Driven Maturity",
			JSONData: map[string]any{"databasePath": filepath.Join(dir, "store", "maturity.db")}, Secure: map[string]string{}}
		ds.Touch()
		h := &Host{T: t, P: p, DS: ds}
		res := h.CheckHealth(Admin("admin"))
		if res.Status != backend.HealthStatusOk {
			t.Fatalf("CheckHealth: %v %q, want OK%s", res.Status, res.Message, p.logTail(20))
		}
		if !strings.Contains(res.Message, ds.DBPath()) {
			t.Errorf("CheckHealth %q does not name the store %s", res.Message, ds.DBPath())
		}
		t.Logf("CheckHealth: %s", res.Message)
	})
}

// repoFile is a path below the repository root (the suite runs in tests/e2e).
func repoFile(elem ...string) string {
	return filepath.Join(append([]string{"..", ".."}, elem...)...)
}

// cargoVersionOf is the [package] version of Cargo.toml, the one source of truth.
func cargoVersionOf(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(repoFile("Cargo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\[package\][^\[]*?^version\s*=\s*"([^"]+)"`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("Cargo.toml: no [package] version")
	}
	return string(m[1])
}

// composeFile is the part of docker-compose.yaml this test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string         `yaml:"image"`
		User        string         `yaml:"user"`
		Command     any            `yaml:"command"`
		Environment map[string]any `yaml:"environment"`
		Volumes     []string       `yaml:"volumes"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// docker-compose.yaml cannot run here (no Docker engine): what it names is checked instead.
// The paths that `mage package` produces (dist/, target/cli/) are checked when the archive was
// just built (MATURITY_PACKAGE_ZIP set).
func TestDockerCompose(t *testing.T) {
	var c composeFile
	raw, err := os.ReadFile(repoFile("docker-compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	grafana, ok := c.Services["grafana"]
	if !ok {
		t.Fatal("docker-compose.yaml has no grafana service")
	}
	demo, ok := c.Services["demo-data"]
	if !ok {
		t.Fatal("docker-compose.yaml has no demo-data service")
	}
	if !regexp.MustCompile(`^grafana/grafana:\d+\.\d+\.\d+$`).MatchString(grafana.Image) {
		t.Errorf("grafana image %q is not a pinned grafana/grafana release", grafana.Image)
	}
	if grafana.DependsOn["demo-data"].Condition != "service_completed_successfully" {
		t.Errorf("grafana does not wait for demo-data to complete: %+v", grafana.DependsOn)
	}

	// The unsigned ids: the datasource and every plugin nested in dist/ (the panel).
	unsigned := fmt.Sprint(grafana.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"])
	allowed := map[string]bool{}
	for _, id := range strings.Split(unsigned, ",") {
		allowed[strings.TrimSpace(id)] = true
	}
	ids := []string{PluginID}
	nested, _ := filepath.Glob(repoFile("frontend", "src", "*", "plugin.json"))
	for _, n := range nested {
		var m pkgManifest
		if b, err := os.ReadFile(n); err == nil && json.Unmarshal(b, &m) == nil && m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	for _, id := range ids {
		if !allowed[id] {
			t.Errorf("GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS %q does not allow %s", unsigned, id)
		}
	}

	// Mounts: dist/ as the plugin folder, provisioning/ as Grafana's, one volume for the data.
	type mount struct{ src, dst string }
	mounts := func(vols []string) []mount {
		var out []mount
		for _, v := range vols {
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("volume %q is not src:dst", v)
				continue
			}
			out = append(out, mount{parts[0], parts[1]})
		}
		return out
	}
	find := func(ms []mount, dst string) (mount, bool) {
		for _, m := range ms {
			if m.dst == dst {
				return m, true
			}
		}
		return mount{}, false
	}
	gm, dm := mounts(grafana.Volumes), mounts(demo.Volumes)
	if m, ok := find(gm, "/var/lib/grafana/plugins/"+PluginID); !ok || path.Clean(m.src) != "dist" {
		t.Errorf("grafana does not mount ./dist as /var/lib/grafana/plugins/%s: %v", PluginID, grafana.Volumes)
	}
	if m, ok := find(gm, "/etc/grafana/provisioning"); !ok || path.Clean(m.src) != "provisioning" {
		t.Errorf("grafana does not mount ./provisioning as /etc/grafana/provisioning: %v", grafana.Volumes)
	}
	gData, ok1 := find(gm, "/var/lib/grafana")
	dData, ok2 := find(dm, "/var/lib/grafana")
	if !ok1 || !ok2 || gData.src != dData.src || strings.HasPrefix(gData.src, ".") {
		t.Errorf("grafana and demo-data do not share one named volume at /var/lib/grafana: %v / %v", grafana.Volumes, demo.Volumes)
	} else if _, declared := c.Volumes[gData.src]; !declared {
		t.Errorf("the volume %q is not declared under volumes:", gData.src)
	}

	// The demo is written where the provisioned datasource reads.
	var ds struct {
		Datasources []struct {
			Type     string         `yaml:"type"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	dsRaw, err := os.ReadFile(repoFile("provisioning", "datasources", "maturity.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(dsRaw, &ds); err != nil {
		t.Fatal(err)
	}
	dbPath := ""
	for _, d := range ds.Datasources {
		if d.Type == PluginID {
			dbPath = fmt.Sprint(d.JSONData["databasePath"])
		}
	}
	script := fmt.Sprint(demo.Command)
	if dbPath == "" || !strings.HasPrefix(dbPath, "/var/lib/grafana/") {
		t.Errorf("the provisioned datasource's databasePath %q is not in Grafana's data volume", dbPath)
	} else if !strings.Contains(script, "--db "+dbPath+" demo") {
		t.Errorf("demo-data does not run `maturity --db %s demo`: %s", dbPath, script)
	}
	if !strings.Contains(script, "/opt/maturity/maturity_linux_") {
		t.Errorf("demo-data does not run the maturity_linux_<arch> tool of target/cli: %s", script)
	}
	if m, ok := find(dm, "/opt/maturity"); !ok || path.Clean(m.src) != "target/cli" {
		t.Errorf("demo-data does not mount ./target/cli (scripts/build-backend's maturity_linux_*) at /opt/maturity: %v", demo.Volumes)
	}

	// Every host path exists (those `mage package` produces, once it has run).
	built := os.Getenv(PackageZipEnv) != ""
	for _, m := range append(gm, dm...) {
		if !strings.HasPrefix(m.src, ".") {
			continue
		}
		clean := path.Clean(m.src)
		produced := clean == "dist" || strings.HasPrefix(clean, "target/")
		if produced && !built {
			continue
		}
		if _, err := os.Stat(repoFile(filepath.FromSlash(clean))); err != nil {
			t.Errorf("docker-compose.yaml mounts %s, which does not exist", m.src)
		}
	}
	if built {
		for _, arch := range []string{"amd64", "arm64"} {
			f := repoFile("target", "cli", "maturity_linux_"+arch)
			if st, err := os.Stat(f); err != nil || st.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s (demo-data's tool) is missing or not executable", f)
			} else if _, err := binaryFormat(f, "linux_"+arch); err != nil {
				t.Errorf("%s: %v (it runs in the Alpine-based image)", f, err)
			}
		}
		if _, err := os.Stat(repoFile("dist", "gpx_maturity_linux_amd64")); err != nil {
			t.Errorf("dist/ has no gpx_maturity_linux_amd64")
		}
	}
}
