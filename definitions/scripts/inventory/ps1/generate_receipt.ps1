# generate_receipt: writes <target folder>/VALIDATION.RECEIPT.yaml, naming the folder (as the TypeScript
# handler does), so runs over different folders never overwrite each other's; whole each time, so a re-run of
# the same attempt rewrites it. scan_files leaves it out of the inventory.
# Input (stdin, JSON): { validation_data: <validate_compliance's output>, timestamp }
# Output (stdout, JSON): { validation_receipt, receipt_file, compliance_status }
param([Parameter(Mandatory = $true)][string]$Folder)
. "$PSScriptRoot/common.ps1"

$in = Read-TaskInput
$v = $in.validation_data
$given = if ($Folder.Length -gt 1) { $Folder.TrimEnd('/', '\') } else { $Folder }
$target = "$given/VALIDATION.RECEIPT.yaml"
$dir = Resolve-FromCaller $given
New-Item -ItemType Directory -Force -Path $dir | Out-Null
# JSON strings are YAML strings: each value is written as JSON.
function J($x) { if ($null -eq $x) { 'null' } else { ConvertTo-Json -InputObject $x -Compress -Depth 5 } }
$lines = @(
    'receipt:'
    "  workflow: $(J $env:LF_WORKFLOW_ID)"
    "  run_id: $(J $env:LF_RUN_ID)"
    "  idempotency_key: $(J $env:LF_IDEMPOTENCY_KEY)"
    "  folder: $(J $Folder)"
    "  scanned_at: $(J $in.timestamp)"
    "  compliance_status: $(J $v.compliance_status)"
    "  compliance_score: $(J $v.compliance_score)"
    "  violations: $(J @($v.violations))"
    "  checked_files: $(J $v.checked_files)"
)
$tmp = Join-Path $dir 'VALIDATION.RECEIPT.yaml.tmp'
Set-Content -LiteralPath $tmp -Value $lines -Encoding utf8NoBOM
Move-Item -LiteralPath $tmp -Destination (Join-Path $dir 'VALIDATION.RECEIPT.yaml') -Force
[Console]::Error.WriteLine("receipt written to $target")
Write-TaskOutput ([ordered]@{ validation_receipt = $target; receipt_file = $target; compliance_status = $v.compliance_status })
