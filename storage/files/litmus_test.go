package files

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowless-dev/shadowless/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLitmus runs the litmus WebDAV compliance suites basic, copymove and props against
// the WebDAV handler and requires every test in them to pass (warnings are tolerated).
func TestLitmus(t *testing.T) {
	testenv.LookPath(t, "litmus")
	root := "/usr/libexec/litmus"
	if _, err := os.Stat(filepath.Join(root, "basic")); err != nil {
		testenv.Unavailable(t, "litmus suites not found in %s: %v", root, err)
	}
	s := newService(t)
	url := serve(t, s.WebDAVHandler("", testUsers))
	summary := regexp.MustCompile(`<- summary for .(\w+).: of (\d+) tests run: (\d+) passed, (\d+) failed`)
	for _, suite := range []string{"basic", "copymove", "props"} {
		t.Run(suite, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(root, suite), "--htdocs", "/usr/share/litmus/htdocs", url+"/", "alice", "wonderland")
			cmd.Dir = t.TempDir() // litmus writes debug.log here
			out, err := cmd.CombinedOutput()
			m := summary.FindStringSubmatch(string(out))
			require.NotNil(t, m, "no litmus summary in output:\n%s", out)
			run, _ := strconv.Atoi(m[2])
			passed, _ := strconv.Atoi(m[3])
			failed, _ := strconv.Atoi(m[4])
			t.Logf("litmus %s: %d run, %d passed, %d failed, %d warnings", suite, run, passed, failed, strings.Count(string(out), "WARNING:"))
			assert.Zero(t, failed, "litmus %s failures:\n%s", suite, out)
			assert.Equal(t, run, passed)
			assert.Greater(t, run, 5)
			assert.NoError(t, err, "%s", out)
		})
	}
}
