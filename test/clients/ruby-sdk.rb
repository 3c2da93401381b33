# Drives the official Ruby SDK (4me-sdk-ruby) against a running server, as an integration would:
# one create with field attachments and an inline image, the SDK uploading every file through its
# attachment helper first. Prints one JSON line with the answer. Run by ruby-sdk.test.ts.
require 'json'
require 'sdk4me/client'

client = Sdk4me::Client.new(
  host: ENV.fetch('API_HOST'),
  access_token: ENV.fetch('API_TOKEN'),
  account: ENV.fetch('API_ACCOUNT'),
  max_retry_time: -1,
  logger: Logger.new(File::NULL)
)
files = ENV.fetch('FILES_DIR')
response = client.post('/app_offerings', {
  name: 'Uploaded by the Ruby SDK',
  service_instance_id: Integer(ENV.fetch('SERVICE_INSTANCE_ID')),
  policy_jwt_alg: 'rs256',
  webhook_uri_template: 'https://hooks.example.com/{account}',
  description: 'Look: [description_attachments: 0], and the terms.',
  description_attachments: ["#{files}/diagram.png", "#{files}/terms.pdf"],
  features_attachments: ["#{files}/notes 我.txt"]
})
puts({ valid: response.valid?, status: response.raw.code.to_i, body: response.json, message: response.message }.to_json)
