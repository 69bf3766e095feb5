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
 * parameter parsing, result files and masking. The runner runs from its TypeScript sources (through tsx), so this
 * checks the Groovy side against the current runner rather than the last bundle.
 */
class RealRunnerTest {
    PipelineHarness h
    File ws
    HttpServer server
    final List<String> authHeaders = Collections.synchronizedList([])

    static String shim() {
        File root = Vars.root()
        String tsx = new File(root, 'node_modules/tsx/dist/loader.mjs').toURI().toString()
        String cli = new File(root, 'runner/src/cli.ts').canonicalPath
        return """// test stand-in for resources/dify-ci/runner.cjs: the same CLI, from its sources
const r = require('node:child_process').spawnSync(process.execPath, ['--import', ${json(tsx)}, ${json(cli)}, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
"""
    }

    static String json(String s) {
        return groovy.json.JsonOutput.toJson(s)
    }

    @Before
    void setUp() {
        ws = Files.createTempDirectory('dify-ci-groovy-').toFile()
        new File(Vars.root(), 'test/groovy/fixtures').eachFile { File f -> new File(ws, f.name).bytes = f.bytes }
        h = Vars.harness()
        h.useDisk(ws)
        h.runnerText = shim()
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
        assertEquals([[artifacts: '.dify-ci/reports/validate.json', allowEmptyArchive: true]], h.named('archiveArtifacts')*.args*.getAt(0))
        assertTrue(new File(ws, '.dify-ci/reports/validate.json').isFile())
        assertEquals('validate', new JsonSlurper().parse(new File(ws, '.dify-ci/results/validate.json')).command)
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
        String result = new File(ws, '.dify-ci/results/deploy-staging.json').text
        for (String secret : [token, PipelineHarness.secretOf('openai-staging', 'OPENAI_KEY')]) {
            assertFalse(e.message.contains(secret))
            assertFalse(h.shellLog.toString().contains(secret))
            assertFalse(result.contains(secret))
        }
    }
}
