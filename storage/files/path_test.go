package files

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCleanPath(t *testing.T) {
	good := map[string]string{
		"":                             "/",
		"/":                            "/",
		"a":                            "/a",
		"/a/b/":                        "/a/b",
		"//a///b":                      "/a/b",
		"/café/naïve.txt":              "/café/naïve.txt",
		"/a:b/c":                       "/a:b/c",
		"/x/C:":                        "/x/C:",
		"/...":                         "/...",
		"/.hidden":                     "/.hidden",
		"/" + strings.Repeat("n", 255): "/" + strings.Repeat("n", 255),
	}
	for in, want := range good {
		got, err := CleanPath(in)
		require.NoError(t, err, "%q", in)
		assert.Equal(t, want, got, "%q", in)
	}
	bad := map[string]string{
		"/a/../b":                      `".." segment`,
		"..":                           `".." segment`,
		"/a/..":                        `".." segment`,
		"/a/./b":                       `"." segment`,
		"/a\x00b":                      "NUL",
		"/a\nb":                        "control character",
		`\etc\passwd`:                  "backslash",
		`/a\..\..\b`:                   "backslash",
		"C:/Windows":                   "drive letter",
		"/c:/x":                        "drive letter",
		"//A:":                         "drive letter",
		"/\xff\xfe":                    "UTF-8",
		"/" + strings.Repeat("n", 256): "name longer",
		strings.Repeat("/abc", 1025):   "longer than 4096",
	}
	for in, why := range bad {
		_, err := CleanPath(in)
		require.ErrorIs(t, err, ErrInvalidPath, "%q", in)
		assert.Contains(t, err.Error(), why, "%q", in)
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"", "/", "/a/b", "../../etc/passwd", "/a/./b", "a\x00b", `C:\x`, "//x//", "/.../..a", "\xff", "//A:", "///z:/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := CleanPath(p)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPath)
			return
		}
		// A clean path is canonical, absolute in the user's tree and cannot climb out.
		require.True(t, strings.HasPrefix(c, "/"))
		require.True(t, utf8.ValidString(c))
		require.NotContains(t, c, "\x00")
		require.NotContains(t, c, `\`)
		require.NotContains(t, c, "//")
		for _, seg := range strings.Split(c[1:], "/") {
			require.NotEqual(t, "..", seg)
			require.NotEqual(t, ".", seg)
			require.LessOrEqual(t, len(seg), MaxNameLength)
		}
		if c != "/" {
			require.False(t, strings.HasSuffix(c, "/"))
		}
		again, err := CleanPath(c)
		require.NoError(t, err)
		require.Equal(t, c, again)
		require.True(t, within(c, "/"))
		require.True(t, within(c, parentOf(c)))
	})
}
