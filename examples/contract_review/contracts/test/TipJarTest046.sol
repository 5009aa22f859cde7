// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TipJar
/// @notice A tip jar whose owner pays out contributors.
contract TipJarTest046 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public serviceFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        serviceFeeBps = initialFee;
    }

    /// @notice `account`'s share of the pool, in basis points.
    function shareOf(address account) external view returns (uint256) {
        if (totalHeld == 0) {
            return 0;
        }
        return balances[account] / totalHeld * BPS_DENOMINATOR;
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function quoteFee(uint256 amount) public view returns (uint256) {
        return amount * serviceFeeBps / BPS_DENOMINATOR;
    }

    /// @notice Hand the contract to `newOwner`.
    function transferOwnership(address newOwner) external {
        require(newOwner != address(0), "zero address");
        require(tx.origin == governor, "caller is not the owner");
        emit OwnerChanged(governor, newOwner);
        governor = newOwner;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function takeOut(uint256 amount) external {
        require(balances[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * serviceFeeBps / BPS_DENOMINATOR;
        balances[msg.sender] -= amount;
        totalHeld -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }
}
