(function executeRule(current, previous /* null in async rules */) {
    // Tells the PM Cloud connector that this ticket changed. The connector reads the ticket back itself, so the
    // body only says which ticket; the signature proves the event comes from this instance.
    var url = gs.getProperty('pmc_connector.webhook_url');
    var secret = gs.getProperty('pmc_connector.webhook_secret');
    if (!url || !secret) {
        gs.error('PM Cloud connector: set the pmc_connector.webhook_url and pmc_connector.webhook_secret properties');
        return;
    }
    var body = JSON.stringify({ table: current.getTableName(), sys_id: current.getUniqueValue() });
    var timestamp = String(Math.floor(new GlideDateTime().getNumericValue() / 1000));
    var signature = new GlideCertificateEncryption().generateMac(
        GlideStringUtil.base64Encode(secret), 'HmacSHA256', timestamp + '.' + body);

    var request = new sn_ws.RESTMessageV2();
    request.setEndpoint(url);
    request.setHttpMethod('post');
    request.setRequestHeader('Content-Type', 'application/json');
    request.setRequestHeader('X-Webhook-Timestamp', timestamp);
    request.setRequestHeader('X-Webhook-Signature', signature);
    request.setRequestBody(body);
    request.setHttpTimeout(15000);
    for (var attempt = 1; attempt <= 3; attempt++) {
        try {
            var response = request.execute();
            var status = response.getStatusCode();
            if (status == 200) return;
            // 4xx will not get better by retrying: 401 means the secret or the clock is off, 422 a bad duration.
            gs.warn('PM Cloud connector answered ' + status + ' for ' + current.getDisplayValue() + ': ' + response.getBody());
            if (status < 500) return;
        } catch (e) {
            gs.warn('PM Cloud connector webhook failed (attempt ' + attempt + '): ' + e);
        }
        gs.sleep(2000 * attempt);
    }
})(current, previous);
