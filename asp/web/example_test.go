package web_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/shadowless-dev/shadowless/asp/web"
)

func ExampleHandler() {
	hs := httptest.NewServer(web.Handler())
	defer hs.Close()
	for _, path := range []string{"/", "/client.js"} {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		res.Body.Close()
		fmt.Println(path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	// Output:
	// / 200 text/html; charset=utf-8
	// /client.js 200 text/javascript; charset=utf-8
}
