package files

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func FuzzCheckXMLBody(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><bar:foo xmlns:bar=""/></prop></propfind>`))
	f.Add([]byte(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`))
	f.Add([]byte(`<a xmlns:x="urn:x"><x:b xmlns:y=""/>`))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := checkXMLBody(bytes.NewReader(body))
		if err != nil {
			require.ErrorIs(t, err, errBadRequest)
			require.Nil(t, got)
			return
		}
		require.Equal(t, body, got, "an accepted body is passed on unchanged")
	})
}
