package harness

import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

/** What the `error` step throws (Jenkins: hudson.AbortException); also a failing `sh` without returnStatus. */
class PipelineError extends RuntimeException {
    PipelineError(String message) {
        super(message)
    }
}

class FakeBuild implements Serializable {
    String result = null
    int number = 7
    FakeBuild previousBuild = null

    String getCurrentResult() {
        return result ?: 'SUCCESS'
    }

    void worsen(String r) {
        List order = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']
        if (order.indexOf(r) > order.indexOf(getCurrentResult())) {
            result = r
        }
    }
}

/**
 * Like Jenkins' `env`: unset names read as null, every value is stored as a String, and inside `withEnv` the
 * overlaid value is what `env.NAME` reads (the overlay lives in the harness's environment stack).
 */
class FakeEnv {
    final Map<String, String> values = [:]
    /** The withEnv/withCredentials layers, innermost last (the harness's). */
    List<Map> layers = []

    Object propertyMissing(String name) {
        for (int i = layers.size() - 1; i >= 0; i--) {
            if (layers[i].containsKey(name)) {
                return layers[i][name]
            }
        }
        return values[name]
    }

    void propertyMissing(String name, Object value) {
        values[name] = value == null ? null : value.toString()
    }

    Object getAt(String name) {
        return propertyMissing(name)
    }
}

/**
 * pipeline-milestone-step's ordering across the builds of one job (MilestoneStepExecution.getBuildsToCancel, plugin
 * 127+): every running build is recorded with the last ordinal it passed (null: none yet). When build B passes
 * ordinal k, every older build still at null or below k is cancelled; when B completes having passed any milestone,
 * every older build below Integer.MAX_VALUE is. A cancelled build fails at its next step with a
 * FlowInterruptedException, as an interrupted executor does.
 */
class MilestoneBoard {
    final SortedMap<Integer, Integer> passed = new TreeMap<Integer, Integer>()
    final Map<Integer, String> cancelled = [:]
    /** Builds that were interrupted (once each). */
    final Set<Integer> interrupted = [] as Set
    private final Set<Integer> running = [] as Set

    void started(int build) {
        running << build
        cancelled.remove(build)
        interrupted.remove(build)
        passed.put(build, null)
    }

    void pass(int build, int ordinal) {
        passed.put(build, ordinal)
        cancelOlder(build, ordinal)
        for (Map.Entry<Integer, Integer> e : passed.entrySet()) {
            if (e.key > build && e.value != null && e.value >= ordinal) {
                cancelled[build] = "Canceled since build #${e.key} already got here".toString()
            }
        }
    }

    void completed(int build) {
        running.remove(build)
        Integer last = passed.remove(build)
        if (last != null) {
            cancelOlder(build, Integer.MAX_VALUE)
        }
    }

    private void cancelOlder(int build, int ordinal) {
        for (Map.Entry<Integer, Integer> e : passed.entrySet()) {
            if (e.key < build && (e.value == null || e.value < ordinal) && !cancelled.containsKey(e.key) && !interrupted.contains(e.key)) {
                cancelled[e.key] = "Superseded by build #${build}".toString()
            }
        }
    }

    /** Throws once, at a cancelled build's next step (as an interrupted executor does; its catch/finally run on). */
    void check(int build) {
        if (cancelled.containsKey(build) && running.contains(build)) {
            String why = cancelled.remove(build)
            interrupted << build
            throw new FlowInterruptedException(why)
        }
    }
}
