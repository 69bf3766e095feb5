import static org.junit.Assert.*

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpHandler
import com.sun.net.httpserver.HttpServer
import groovy.json.JsonSlurper
import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import java.nio.file.Files
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * The vars against the real runner: files on disk, the constant scripts run by bash, the runner's own context,
 * parameter parsing, result files and masking. The runner is the bundle, resources/dify-ci/runner.cjs: the file
 * libraryResource hands to Jenkins agents (CI checks it is built from the current sources).
 */
class RealRunnerTest {
    PipelineHarness h
    File ws
    HttpServer server
    final List<String> authHeaders = Collections.synchronizedList([])

    @Before
    void setUp() {
        ws = Files.createTempDirectory('dify-ci-groovy-').toFile()
        new File(Vars.root(), 'test/groovy/fixtures').eachFile { File f -> new File(ws, f.name).bytes = f.bytes }
        h = Vars.harness()
        h.useDisk(ws)
        h.runnerText = new File(Vars.root(), 'resources/dify-ci/runner.cjs').getText('UTF-8')
    }

    @After
    void tearDown() {
        server?.stop(0)
        ws.deleteDir()
        new File(ws.path + '@tmp').deleteDir()
    }

    private PipelineError expectError(Closure c) {
        try {
            c.call()
        } catch (PipelineError e) {
            return e
        }
        fail("expected error(); runner output:\n${h.shellLog}")
        return null
    }

    /** A Dify stand-in on loopback that refuses every login (401) and records what it was sent. */
    private void refusingDify() {
        server = HttpServer.create(new InetSocketAddress('127.0.0.1', 0), 0)
        server.createContext('/', { HttpExchange x ->
            authHeaders << (x.requestHeaders.getFirst('Authorization') ?: '')
            byte[] body = '{"code": "unauthorized", "message": "Invalid token", "status": 401}'.getBytes('UTF-8')
            x.responseHeaders.add('Content-Type', 'application/json')
            x.sendResponseHeaders(401, body.length)
            x.responseBody.write(body)
            x.close()
        } as HttpHandler)
        server.start()
        File config = new File(ws, 'dify-ci.yml')
        config.text = config.text.replace('http://127.0.0.1:9', "http://127.0.0.1:${server.address.port}")
    }

    @Test
    void validateRunsThroughTheRealRunnerAndItsReportIsArchived() {
        Map r = h.call('difyValidate', [format: 'json', output: '.dify-ci/reports/validate.json'])
        assertEquals(h.shellLog.toString(), 'success', r.status)
        assertEquals(0, r.exitCode)
        assertEquals([[artifacts: '.dify-ci/results/validate-c3.json,.dify-ci/reports/validate.json', allowEmptyArchive: true]], h.named('archiveArtifacts')*.args*.getAt(0))
        assertTrue(new File(ws, '.dify-ci/reports/validate.json').isFile())
        assertEquals('validate', new JsonSlurper().parse(new File(ws, '.dify-ci/results/validate-c3.json')).command)
    }

    @Test
    void aConfigurationTypoSurfacesWithFileLineAndColumn() {
        File config = new File(ws, 'dify-ci.yml')
        config.text = config.text.replace('secrets:', 'secretz:')
        PipelineError e = expectError { h.call('difyValidate') }
        assertTrue(e.message, e.message ==~ /dify-ci context: .*dify-ci\.yml:\d+:\d+.*secretz.* \[config\]/)
    }

    @Test
    void anUnknownParameterIsAUsageErrorNamingIt() {
        PipelineError e = expectError { h.call('difyStatus', [env: 'staging', failOnDrfit: true]) }
        // The runner rejects the parameter before the command starts, and still writes the reason into its result file.
        assertTrue(e.message, e.message ==~ /dify-ci status: unknown parameter 'failOnDrfit' for 'status' \(known: .*failOnDrift.*\) \[usage\]/)
        assertTrue(h.shellLog.toString(), h.shellLog.toString().contains("unknown parameter 'failOnDrfit' for 'status'"))
    }

    @Test
    void theCredentialsContextNamesReachTheRunnerAndNeverItsOutput() {
        refusingDify()
        PipelineError e = expectError { h.call('difyDeploy', [env: 'staging', dryRun: true]) }
        assertEquals([[$symbol: 'string', credentialsId: 'dify-staging-token', variable: 'DIFY_TOKEN'],
                      [$symbol: 'string', credentialsId: 'openai-staging', variable: 'OPENAI_KEY']],
            h.named('withCredentials')[0].args[0])
        String token = PipelineHarness.secretOf('dify-staging-token', 'DIFY_TOKEN')
        assertTrue("the bound token reached Dify: ${authHeaders}", authHeaders.any { it.contains(token) })
        assertTrue(e.message, e.message.startsWith('dify-ci deploy: '))
        String result = new File(h.commands()[0].resultFile as String).text
        for (String secret : [token, PipelineHarness.secretOf('openai-staging', 'OPENAI_KEY')]) {
            assertFalse(e.message.contains(secret))
            assertFalse(h.shellLog.toString().contains(secret))
            assertFalse(result.contains(secret))
        }
    }

    /** The fixture plus qa (approval required, not protected) and production (protected), approval policy always. */
    private void policyEnvironments() {
        File config = new File(ws, 'dify-ci.yml')
        String auth = "    url: http://127.0.0.1:9\n    auth: {mode: token, tokenEnv: DIFY_TOKEN, credentialsId: dify-staging-token}\n"
        config.text = config.text + "  qa:\n" + auth + "    approval: {required: true}\n  production:\n" + auth + "    protected: true\n" +
            "pipeline:\n  approval: {policy: always, everyNth: 3, mainBranch: trunk}\n"
    }

    private Map realContext(Map params) {
        return h.var('difyRun').invokeMethod('context', ['pipeline', null, null, params] as Object[]) as Map
    }

    @Test
    void theRealRunnerDecidesTheApprovalGateOfEveryEnvironmentAsTheHarnessFakeDoes() {
        policyEnvironments()
        Map facts = [branch: 'feature/x', tag: null]
        List cases = [
            [[:], [staging: 'go', qa: 'ask', production: 'ask']],
            [[overrides: [approvalPolicy: 'never']], [staging: 'go', qa: 'go', production: 'ask']],
            [[overrides: [approvalPolicy: 'main-branch']], [staging: 'go', qa: 'stop', production: 'stop']],
            [[overrides: [approvalPolicy: 'main-branch'], branch: 'trunk'], [staging: 'go', qa: 'ask', production: 'ask']],
            [[overrides: [approvalPolicy: 'main-branch', mainBranch: 'feature/x']], [staging: 'go', qa: 'ask', production: 'ask']],
            [[overrides: [approvalPolicy: 'tags']], [staging: 'go', qa: 'stop', production: 'stop']],
            [[overrides: [approvalPolicy: 'tags'], tag: 'v1.2.0'], [staging: 'go', qa: 'ask', production: 'ask']],
            [[overrides: [approvalPolicy: 'every-nth']], [staging: 'go', qa: 'stop', production: 'stop']],
            [[overrides: [approvalPolicy: 'every-nth'], branch: 'trunk'], [staging: 'go', qa: 'stop', production: 'stop']],
            [[overrides: [approvalPolicy: 'every-nth', everyNth: 1], branch: 'trunk'], [staging: 'go', qa: 'ask', production: 'ask']],
            [[overrides: [approvalPolicy: 'every-nth'], tag: 'v1.2.0'], [staging: 'go', qa: 'ask', production: 'ask']],
        ]
        for (List c : cases) {
            Map params = facts + (c[0] as Map)
            Map real = realContext(params)
            Map gates = real.environmentDetails.collectEntries { k, v -> [(k): v.gate] }
            assertEquals("${params}: ${h.shellLog}".toString(), c[1], gates)
            // The DifyPipelineTest harness answers context the same way: its fake, fed the file's settings, agrees.
            Map fileOnly = realContext(facts)
            Map fake = PipelineHarness.resolveContext(fileOnly, [step: 'pipeline'] + params).result.data
            assertEquals("harness fake for ${params}".toString(), gates, fake.environmentDetails.collectEntries { k, v -> [(k): v.gate] })
            assertEquals(real.pipeline, fake.pipeline)
        }
    }

    @Test
    void difyPipelineOptionsAreCheckedByTheRealRunner() {
        PipelineError e = expectError { h.call('difyPipeline', [approvalPolicy: 'every-nth', everyNth: '3']) }
        assertEquals("dify-ci context: difyPipeline: everyNth must be a whole number \u2265 1 (got '3') [usage]", e.message)
        e = expectError { h.call('difyPipeline', [environments: ['staging', 'prod']]) }
        assertEquals("dify-ci context: difyPipeline: environments: no environment 'prod' in dify-ci.yml (known: staging) [usage]", e.message)
        assertEquals('nothing but the context ran', ['context'], h.runs*.command.unique())
    }
}
