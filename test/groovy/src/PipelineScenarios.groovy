import static harness.PipelineHarness.*
import static org.junit.Assert.*

import groovy.json.JsonSlurper
import harness.PipelineHarness
import harness.Vars
import org.junit.Before

/**
 * What the pipeline tests share: a harness whose context carries `pipelineSettings` over the default one, running
 * difyPipeline, and readers of what it did.
 */
abstract class PipelineScenarios extends EngineTest {
    public static final String STAGING_LOCK = defaultContext('pipeline', null).environmentDetails.staging.lock
    public static final String PROD_LOCK = defaultContext('pipeline', null).environmentDetails.production.lock
    public static final Map LOCKS = [staging: STAGING_LOCK, production: PROD_LOCK]
    Map pipelineSettings = [:]
    /** every-nth: the good main builds the runner counts in the deploy history, per gated environment. */
    Map goodBuilds = [:]

    PipelineScenarios(String engine) {
        super(engine)
    }

    @Before
    void setUp() {
        h = Vars.harness()
        h.env.BRANCH_NAME = 'main'
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.pipeline = c.pipeline + pipelineSettings
            c.goodBuilds = goodBuilds
            c
        }
    }

    protected Throwable runPipeline(Map overrides = [:]) {
        try {
            h.call('difyPipeline', overrides)
        } catch (Throwable t) {
            return t
        }
        return null
    }

    /** "command env" for every runner invocation except context, in order. */
    protected List<String> commandLine() {
        return h.commands().collect { Map r -> ([r.command, r.params.env ?: r.params.status] - null).join(' ') }
    }

    /** A result file's name without its call id (`deploy-staging-c13.json` -> `deploy-staging.json`). */
    protected static String withoutId(String name) {
        return name.replaceFirst(/-c\d+\.json$/, '.json')
    }

    protected static boolean inNode(Map call) {
        return call.stack.any { it.startsWith('node:') }
    }

    /** Index of the sh/bat call labelled `label` (e.g. 'dify-ci rollback production'). */
    protected int shellIndex(String label) {
        return h.calls.findIndexOf { it.name in ['sh', 'bat'] && it.args[0].label.toString() == label }
    }

    /**
     * The automatic rollback of `e`: this build only (thisBuild, results), and in the same node, before it, the
     * results directory cleared and every stash saved so far unstashed (the harness runs one block at a time, so
     * the calls between the node and the rollback are that node's). Returns the rollback's runner invocation.
     */
    protected Map assertThisBuildRollback(String e, String approver) {
        Map rb = h.commands().find { it.command == 'rollback' && it.params.env == e }
        assertNotNull("rollback ${e}", rb)
        assertEquals([env: e, config: null, approvedBy: approver, thisBuild: true, results: '.dify-ci/results'], rb.params)
        int sh = shellIndex("dify-ci rollback ${e}")
        int node = h.calls.subList(0, sh).findLastIndexOf { it.name == 'node' }
        List<Map> body = h.calls.subList(node + 1, sh)
        List saved = h.calls.subList(0, node).findAll { it.name == 'stash' }.collect { it.args[0].name }
        assertTrue(saved.size() > 1)
        assertEquals("the ${e} rollback's node unstashes every stash saved before it, once, before the rollback", saved, body.findAll { it.name == 'unstash' }.collect { it.args[0] })
        assertTrue(body.findAll { it.name == 'unstash' }.every { it.stack.contains("stage:Roll back ${e}".toString()) && inNode(it) })
        int cleared = body.findIndexOf { it.name == 'deleteDir' && it.stack.contains('dir:.dify-ci/results') }
        assertTrue('stale results cleared before the unstash', cleared >= 0 && cleared < body.findIndexOf { it.name == 'unstash' })
        assertEquals('its own stash comes only after the rollback', [], body.findAll { it.name == 'stash' })
        return rb
    }

    /** A runner where every deploy result carries this build's number; `seen` gets, per rollback, the deploy result files in its results dir -> their build. */
    protected Closure recordingRunner(Map seen, Closure fails) {
        return { Map run ->
            if (run.command == 'rollback') {
                String dir = run.resultFile.substring(0, run.resultFile.lastIndexOf('/') + 1)
                Map found = [:]
                h.files.each { String path, String text ->
                    if (path.startsWith(dir) && path.substring(dir.length()).startsWith('deploy-') && text) {
                        found[withoutId(path.substring(dir.length()))] = new JsonSlurper().parseText(text).data.build
                    }
                }
                seen[run.params.env] = found
                seen["backups ${run.params.env}".toString()] = h.files.keySet().findAll { it.startsWith(dir.replace('/results/', '/backups/')) }
                    .collect { it.substring(dir.length() - '.dify-ci/results/'.length()) }.sort()
            }
            Map data = run.command == 'deploy' ? [env: run.params.env, build: 7] : [:]
            List artifacts = []
            if (run.command == 'deploy') { // a chat app's pre-deploy backup, which its rollback re-applies
                String backup = ".dify-ci/backups/${run.params.env}/bot/${withoutId(run.resultFile.tokenize('/')[-1]) - '.json'}.yml".toString()
                h.files[run.resultFile.replaceFirst('/\\.dify-ci/results/.*$', '/') + backup] = 'app: {mode: chat}'
                artifacts << [path: backup, kind: 'backup']
            }
            fails.call(run) ? [exitCode: 1, result: okResult(run.command, [status: 'failed', summary: "${run.command} failed".toString(), data: data, artifacts: artifacts])]
                : [exitCode: 0, result: okResult(run.command, [data: data, artifacts: artifacts])]
        }
    }

    protected Closure failing(String command, String envName, int exitCode = 1) {
        return { Map run ->
            run.command == command && run.params.env == envName
                ? [exitCode: exitCode, result: okResult(command, [status: 'failed', summary: "${command} failed in ${envName}".toString()])]
                : [exitCode: 0, result: okResult(run.command)]
        }
    }
}
