package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// parallel: GET /api/demo/parallel calls B and C at the same time.
func (a *app) parallel(c *gin.Context) {
	if _, ok := a.localWork(c); !ok {
		return
	}
	a.respondWithResults(c, a.downstream.callParallel(c.Request.Context(), []call{
		{key: "service-b", url: endpoint(a.cfg.ServiceBURL, "/api/process", nil)},
		{key: "service-c", url: endpoint(a.cfg.ServiceCURL, "/api/process", nil)},
	}))
}

// sequential: GET /api/demo/sequential calls B, then C.
func (a *app) sequential(c *gin.Context) {
	if _, ok := a.localWork(c); !ok {
		return
	}
	out, _ := a.downstream.callSequential(c.Request.Context(), []call{
		{key: "service-b", url: endpoint(a.cfg.ServiceBURL, "/api/process", nil)},
		{key: "service-c", url: endpoint(a.cfg.ServiceCURL, "/api/process", nil)},
	})
	a.respondWithResults(c, out)
}

// respondWithResults answers 200 when every call succeeded, else the
// failure of results.failure() (502 or 504), always with `results`.
func (a *app) respondWithResults(c *gin.Context, out results) {
	if failure := out.failure(); failure != nil {
		a.fail(c, failure, gin.H{"results": out, "failed": out.failed()})
		return
	}
	a.respond(c, http.StatusOK, gin.H{"results": out})
}
