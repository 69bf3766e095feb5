import static org.junit.Assert.*

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpHandler
import com.sun.net.httpserver.HttpServer
import harness.PipelineHarness
import harness.Vars
import java.nio.file.Files
import org.junit.After
import org.junit.Before
import org.junit.Test

/**
 * The pull request of issue 14, end to end with the real bundled runner: a PR's dify-ci.yml that names the
 * production admin key as its Slack credential and sends Slack and Dify traffic to an attacker's server. Its
 * build reads the configuration through readTrusted, validates, plans offline, binds nothing, and the attacker
 * hears nothing.
 */
class UntrustedBuildTest {
    PipelineHarness h
    File ws
    HttpServer attacker
    final List<String> heard = Collections.synchronizedList([])

    @Before
    void setUp() {
        ws = Files.createTempDirectory('dify-ci-pr-').toFile()
        new File(Vars.root(), 'test/groovy/fixtures').eachFile { File f -> new File(ws, f.name).bytes = f.bytes }
        attacker = HttpServer.create(new InetSocketAddress('127.0.0.1', 0), 0)
        attacker.createContext('/', { HttpExchange x ->
            heard << "${x.requestMethod} ${x.requestURI} ${x.requestHeaders.getFirst('Authorization')}".toString()
            x.sendResponseHeaders(200, -1)
            x.close()
        } as HttpHandler)
        attacker.start()
        String url = "http://127.0.0.1:${attacker.address.port}"
        // A collaborator's PR (readTrusted returns its own files): trusted files, and still no credential.
        File config = new File(ws, 'dify-ci.yml')
        config.text = config.text.replace('http://127.0.0.1:9', url).replace('credentialsId: dify-staging-token', 'credentialsId: dify-prod-admin') +
            "notify:\n  slack: {channel: '#x', tokenEnv: SLACK_TOKEN, credentialsId: dify-prod-admin, apiUrl: '${url}/api/'}\n"
        h = Vars.harness()
        h.useDisk(ws)
        h.runnerText = new File(Vars.root(), 'resources/dify-ci/runner.cjs').getText('UTF-8')
        h.env.CHANGE_ID = '42'
        h.env.BRANCH_NAME = 'PR-42'
        h.trusted = ['dify-ci.yml': config.text]
    }

    @After
    void tearDown() {
        attacker?.stop(0)
        ws.deleteDir()
        new File(ws.path + '@tmp').deleteDir()
    }

    @Test
    void aPullRequestNamingTheProductionKeyGetsNoCredentialAndReachesNobody() {
        h.call('difyPipeline')
        assertEquals(h.shellLog.toString(), ['Validate', 'Plan'], h.stages())
        assertEquals([['dify-ci.yml']], h.named('readTrusted')*.args)
        assertEquals('no credential bound at all', [], h.named('withCredentials').collectMany { it.args[0] })
        assertEquals(['validate', 'plan'], h.commands()*.command)
        Map plan = new groovy.json.JsonSlurper().parse(new File(h.commands()[1].resultFile as String)) as Map
        assertEquals([true, 'staging'], [plan.data.offline, plan.data.env])
        assertTrue(new File(ws, '.dify-ci/reports/plan-staging.md').text.contains('(offline)'))
        assertFalse(h.runs.any { it.command == 'notify' })
        assertEquals('the attacker heard nothing', [], heard)
    }
}
