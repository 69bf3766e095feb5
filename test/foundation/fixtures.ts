/** Config texts shared by the foundation tests. */
export const GOOD_CONFIG = `# dify-ci configuration used by the foundation tests
apps:
  support-bot:
    dsl: apps/support-bot.yml
    tests: tests/support-bot.yml
  summarizer:
    dsl: apps/summarizer.yml
environments:
  staging:
    url: http://127.0.0.1:5001/
    auth: {mode: password, email: ci@example.com, passwordEnv: DIFY_STAGING_PASSWORD, credentialsId: dify-staging-password}
    apps:
      support-bot: {apiKeyEnv: SUPPORT_BOT_KEY, credentialsId: support-bot-staging-key}
    variables: {API_BASE: https://staging.example.com}
    secrets:
      OPENAI_KEY: {env: OPENAI_KEY_STAGING, credentialsId: openai-staging}
    smoke: {concurrency: 2}
  production:
    url: https://dify.example.com
    apiUrl: https://api.dify.example.com/v1
    protected: true
    approval: {submitter: release-managers, timeoutMinutes: 30}
    auth: {mode: admin-key, workspaceId: ws-prod, keyEnv: DIFY_ADMIN_KEY, credentialsId: dify-admin-key}
smoke:
  concurrency: 6
  passRate: 0.9
notify:
  slack: {channel: '#deploys', tokenEnv: SLACK_BOT_TOKEN, credentialsId: slack-bot}
  email:
    to: devops@example.com
    smtp: {host: smtp.example.com, port: 587, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD, credentialsId: smtp-login}
`;
