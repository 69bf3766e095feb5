package org.jenkinsci.plugins.workflow.steps

// Stand-in for Jenkins' class of the same name (an abort: input rejected, timeout, milestone, Abort button).
class FlowInterruptedException extends InterruptedException {
    FlowInterruptedException(String message) {
        super(message)
    }
}
