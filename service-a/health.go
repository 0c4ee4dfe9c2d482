package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// health answers the runner's and the orchestrator's liveness checks. It
// touches nothing downstream: a sick neighbour must not get this one killed.
func (a *app) health(c *gin.Context) {
	a.respond(c, http.StatusOK, gin.H{"status": "ok"})
}
